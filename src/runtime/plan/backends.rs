//! The two [`Evaluator`]s the node loop runs on: the GPU (device tensors; every node records into
//! the pending encoder) and the CPU reference ([`crate::runtime::cpu::eval_node`] on host tensors).

use std::collections::{BTreeMap, HashMap};

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::graph::infer::ValueType;
use crate::graph::{Graph, Node, Op};
use crate::ops::conv::GpuQ8ConvWeights;
use crate::runtime::gpu::packed::{self, DeviceWeight};
use crate::runtime::plan::execute::{live, not_live, Evaluator};
use crate::runtime::plan::observe::Observed;
use crate::runtime::{cpu, gpu};
use crate::tensor::{DType, GpuTensor, HostTensor};

/// The GPU backend over a plan's graph, its inferred types and its uploaded weights.
pub(super) struct GpuEvaluator<'p> {
    pub device: &'p Gpu,
    pub graph: &'p Graph,
    pub types: &'p BTreeMap<String, ValueType>,
    /// Initializers uploaded once, by name and the dtype the GPU backend reads them in.
    pub weights: &'p HashMap<(String, DType), GpuTensor>,
    /// Packed weights uploaded once, in the layout their readers run.
    pub packed: &'p HashMap<String, DeviceWeight>,
    /// QLinearConv weights in the int8 kernel's layout, uploaded once, by node name.
    pub qlinear_weights: &'p HashMap<String, GpuQ8ConvWeights>,
}

/// The weight of every QLinearConv of `graph`, uploaded once in the int8 kernel's layout.
pub(super) fn upload_qlinear_weights(
    device: &Gpu,
    graph: &Graph,
) -> Result<HashMap<String, GpuQ8ConvWeights>> {
    let constants = |node: &Node| -> Vec<Option<&HostTensor>> {
        (node.inputs.iter())
            .map(|name| name.as_ref().and_then(|name| graph.initializers.get(name)))
            .collect()
    };
    (graph.nodes.iter())
        .filter(|node| matches!(node.op, Op::QLinearConv(_)))
        .map(|node| {
            let weights = gpu::upload_qlinear_conv_weights(device, node, &constants(node))?;
            Ok((node.name.clone(), weights))
        })
        .collect()
}

impl GpuEvaluator<'_> {
    /// The host value of each of `node`'s inputs that is an initializer.
    fn constants_of(&self, node: &Node) -> Vec<Option<&HostTensor>> {
        (node.inputs.iter())
            .map(|name| {
                name.as_ref()
                    .and_then(|name| self.graph.initializers.get(name))
            })
            .collect()
    }

    /// Input `index` of `node` as the GPU backend reads it: a live value, an uploaded weight, or
    /// `None` when omitted or read only as a constant.
    fn operand<'v>(
        &'v self,
        values: &'v HashMap<String, GpuTensor>,
        node: &Node,
        index: usize,
        name: Option<&str>,
    ) -> Result<Option<&'v GpuTensor>> {
        let Some(name) = name else { return Ok(None) };
        if self.graph.packed_weights.contains_key(name) {
            return Ok(None);
        }
        let Some(host) = self.graph.initializers.get(name) else {
            return live(values, node, name).map(Some);
        };
        if gpu::reads_as_constant(&node.op, index) {
            return Ok(None);
        }
        let dtype = gpu::device_dtype(&node.op, index, host.dtype());
        (self.weights.get(&(name.to_string(), dtype)))
            .map(Some)
            .ok_or_else(|| not_live(node, name))
    }
}

impl Evaluator for GpuEvaluator<'_> {
    type Value = GpuTensor;

    fn load_input(&self, _name: &str, host: &HostTensor) -> Result<GpuTensor> {
        gpu::upload(self.device, host)
    }

    fn eval(&self, node: &Node, values: &HashMap<String, GpuTensor>) -> Result<Vec<GpuTensor>> {
        let mut operands = (node.inputs.iter().enumerate())
            .map(|(index, name)| self.operand(values, node, index, name.as_deref()))
            .collect::<Result<Vec<_>>>()?;
        if let Some((name, _)) = packed::packed_input(self.graph, node) {
            match self.packed.get(name) {
                Some(DeviceWeight::Dense(dense)) => operands[1] = Some(dense),
                Some(weight) => {
                    return Ok(vec![packed::eval_packed(
                        self.device,
                        node,
                        &operands,
                        weight,
                    )?])
                }
                None => return Err(not_live(node, name)),
            }
        }
        let constants = self.constants_of(node);
        if let Some(weights) = self.qlinear_weights.get(&node.name) {
            let output = gpu::eval_qlinear_conv(self.device, node, &operands, &constants, weights)?;
            return Ok(vec![output]);
        }
        gpu::eval_node(self.device, node, &operands, &constants)
    }

    fn relabel(
        &self,
        node: &Node,
        source: GpuTensor,
        _values: &HashMap<String, GpuTensor>,
    ) -> Result<GpuTensor> {
        let shape = gpu::relabel_shape(node, source.shape(), &self.constants_of(node))?;
        source.reshape(&shape)
    }

    fn constant(&self, host: &HostTensor) -> Result<GpuTensor> {
        gpu::upload(self.device, host)
    }

    fn observed<'v>(&'v self, name: &str, value: &'v GpuTensor) -> Observed<'v> {
        Observed::Gpu {
            device: self.device,
            tensor: value,
            dtype: self.types.get(name).map_or(value.dtype(), |t| t.dtype),
        }
    }

    fn bytes(value: &GpuTensor) -> u64 {
        (value.len() * value.dtype().size_bytes()) as u64
    }
}

/// The CPU reference backend over a graph's initializers and its packed weights' dense values
/// (dequantized once, when the plan is built: [`dequantize_packed`]).
pub(super) struct CpuEvaluator<'p> {
    pub graph: &'p Graph,
    pub packed: &'p HashMap<String, HostTensor>,
}

/// Every packed weight of `graph` as its logical dense tensor ([`crate::graph::PackedWeight::to_dense`]),
/// which is what a packed weight means on the CPU reference backend.
pub(super) fn dequantize_packed(graph: &Graph) -> Result<HashMap<String, HostTensor>> {
    (graph.packed_weights.iter())
        .map(|(name, weight)| Ok((name.clone(), weight.to_dense()?)))
        .collect()
}

impl CpuEvaluator<'_> {
    /// Input `name` of `node`: an initializer, else a live value; `None` where omitted.
    fn operand<'v>(
        &'v self,
        node: &Node,
        values: &'v HashMap<String, HostTensor>,
        name: Option<&String>,
    ) -> Result<Option<&'v HostTensor>> {
        let Some(name) = name else { return Ok(None) };
        match (self.graph.initializers.get(name)).or_else(|| self.packed.get(name)) {
            Some(host) => Ok(Some(host)),
            None => live(values, node, name).map(Some),
        }
    }
}

impl Evaluator for CpuEvaluator<'_> {
    type Value = HostTensor;

    fn load_input(&self, _name: &str, host: &HostTensor) -> Result<HostTensor> {
        Ok(host.clone())
    }

    fn eval(&self, node: &Node, values: &HashMap<String, HostTensor>) -> Result<Vec<HostTensor>> {
        let operands = (node.inputs.iter())
            .map(|name| self.operand(node, values, name.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        cpu::eval_node(node, &operands)
    }

    fn relabel(
        &self,
        node: &Node,
        source: HostTensor,
        values: &HashMap<String, HostTensor>,
    ) -> Result<HostTensor> {
        let shape = {
            let mut operands = vec![Some(&source)];
            for name in node.inputs.iter().skip(1) {
                operands.push(self.operand(node, values, name.as_ref())?);
            }
            gpu::relabel_shape(node, source.shape(), &operands)?
        };
        source.reshaped(&shape)
    }

    fn constant(&self, host: &HostTensor) -> Result<HostTensor> {
        Ok(host.clone())
    }

    fn observed<'v>(&'v self, _name: &str, value: &'v HostTensor) -> Observed<'v> {
        Observed::Host(value)
    }

    fn bytes(value: &HostTensor) -> u64 {
        value.size_bytes() as u64
    }
}

/// Uploads every initializer a GPU kernel reads as a tensor, once per dtype it is read in, after
/// checking that every input the GPU reads as a constant is one.
pub(super) fn upload_weights(
    device: &Gpu,
    graph: &Graph,
) -> Result<HashMap<(String, DType), GpuTensor>> {
    let mut weights = HashMap::new();
    for node in &graph.nodes {
        for (index, name) in node.inputs.iter().enumerate() {
            let Some(name) = name else { continue };
            let constant = gpu::reads_as_constant(&node.op, index);
            let Some(host) = graph.initializers.get(name) else {
                if constant {
                    return Err(Error::Unsupported {
                        location: node.location(),
                        detail: format!(
                            "dynamic input {index} ('{name}') on the GPU, which needs it as a \
                             constant; shapes are bound at Plan time so this only happens for \
                             data-dependent shapes"
                        ),
                    });
                }
                continue;
            };
            if constant {
                continue;
            }
            let dtype = gpu::device_dtype(&node.op, index, host.dtype());
            if let std::collections::hash_map::Entry::Vacant(slot) =
                weights.entry((name.clone(), dtype))
            {
                slot.insert(gpu::upload_as(device, host, dtype)?);
            }
        }
    }
    Ok(weights)
}
