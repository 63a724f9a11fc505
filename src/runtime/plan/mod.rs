//! The execution plan: built once per model and input shapes, then run many times.
//!
//! [`Plan::new`] clones the graph, runs the optimisation passes with the input shapes bound
//! ([`crate::graph::passes::optimize`]), infers every value's type ([`infer_types`]), plans buffers
//! by liveness (each run-time value is dropped after its last reader, so the device's buffer pool
//! recycles it for a later node; [`Plan::peak_bytes`]) and, on the GPU, uploads every initializer
//! a kernel reads as a tensor once. Initializers that set kernel parameters (shapes, axes, scales)
//! stay on the host.
//!
//! [`Plan::run`] checks the inputs against the bound shapes, uploads them, records every node's
//! dispatches into the device's one pending command encoder and reads the outputs back at the end:
//! nothing in the node loop reads or synchronizes, so the first readback submits the whole run as
//! one command buffer (each further output adds one small copy-and-read submission). Reuse of a
//! dropped buffer within that encoder is ordered because every upload is recorded in the same
//! encoder (see [`crate::device::BufferPool`]).
//!
//! Pipelines compile on first use and are cached by program and constants, so the first run
//! compiles every kernel the model needs and later runs only record; [`Plan::warm_up`] does that
//! first run on zeros.
//!
//! The same plan runs on [`Backend::Cpu`], which evaluates each node with the CPU reference
//! ([`crate::runtime::cpu::eval_node`]) in the same order, with the same drops and moves.

mod execute;
mod schedule;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::graph::infer::{infer_types, ValueType};
use crate::graph::{passes, Graph};
use crate::runtime::gpu;
use crate::tensor::{DType, GpuTensor, HostTensor};
use schedule::Schedule;

/// Where a [`Plan`] runs.
#[derive(Clone, Copy)]
pub enum Backend<'a> {
    /// The wgpu kernels on this device.
    Gpu(&'a Gpu),
    /// The CPU reference backend.
    Cpu,
}

/// A graph specialised to fixed input shapes, ready to run repeatedly on one backend.
///
/// ```no_run
/// use kiln::device::Gpu;
/// use kiln::runtime::{Backend, Plan};
/// use kiln::tensor::{DType, HostTensor};
/// # fn main() -> kiln::Result<()> {
/// # let graph = kiln::graph::Graph::default();
/// let gpu = Gpu::from_env()?;
/// let mut plan = Plan::new(&graph, &[("images".into(), vec![1, 3, 224, 224])], Backend::Gpu(&gpu))?;
/// plan.warm_up()?; // compiles every pipeline the model uses
/// let image = HostTensor::zeros(&[1, 3, 224, 224], DType::F32)?;
/// let outputs = plan.run(&[("images".into(), image)])?;
/// println!("{} outputs, peak {} bytes of activations", outputs.len(), plan.peak_bytes());
/// # Ok(()) }
/// ```
pub struct Plan<'a> {
    graph: Graph,
    types: BTreeMap<String, ValueType>,
    backend: Backend<'a>,
    schedule: Schedule,
    /// Initializers uploaded once, by name and the dtype the GPU backend reads them in.
    weights: HashMap<(String, DType), GpuTensor>,
}

impl<'a> Plan<'a> {
    /// Optimises a copy of `graph` for inputs of `input_shapes` (inputs whose declared shape is
    /// fully fixed may be left out), infers every value's type, schedules buffers and, on the GPU,
    /// uploads the weights. A parameter the GPU needs as a constant (a Reshape shape, Slice
    /// starts, ...) that is computed at run time is an [`Error::Unsupported`] here.
    pub fn new(
        graph: &Graph,
        input_shapes: &[(String, Vec<usize>)],
        backend: Backend<'a>,
    ) -> Result<Self> {
        graph.validate()?;
        let mut graph = graph.clone();
        passes::optimize(&mut graph, input_shapes)?;
        let types = infer_types(&graph, input_shapes)?;
        check_unique_outputs(&graph)?;
        let schedule = Schedule::new(&graph, &types)?;
        let weights = match backend {
            Backend::Gpu(device) => upload_weights(device, &graph)?,
            Backend::Cpu => HashMap::new(),
        };
        Ok(Plan {
            graph,
            types,
            backend,
            schedule,
            weights,
        })
    }

    /// Runs the plan on `inputs` (one per graph input, by name, of the bound dtype and shape) and
    /// returns the graph's outputs in order, read back to the host.
    pub fn run(&mut self, inputs: &[(String, HostTensor)]) -> Result<Vec<(String, HostTensor)>> {
        self.check_inputs(inputs)?;
        match self.backend {
            Backend::Gpu(device) => {
                let outputs = execute::run_gpu(self, device, inputs)?;
                outputs
                    .into_iter()
                    .map(|(name, tensor)| {
                        let dtype = self.types.get(&name).map_or(tensor.dtype(), |t| t.dtype);
                        Ok((name, gpu::download(device, &tensor, dtype)?))
                    })
                    .collect()
            }
            Backend::Cpu => execute::run_cpu(self, inputs),
        }
    }

    /// [`Plan::run`] without the readback: the outputs stay on the GPU (the work is recorded, not
    /// yet submitted). ArgMax's i64 indices stay i32 there. An error on [`Backend::Cpu`].
    pub fn run_on_device(
        &mut self,
        inputs: &[(String, HostTensor)],
    ) -> Result<Vec<(String, GpuTensor)>> {
        self.check_inputs(inputs)?;
        match self.backend {
            Backend::Gpu(device) => execute::run_gpu(self, device, inputs),
            Backend::Cpu => Err(Error::InvalidArgument {
                op: "Plan::run_on_device",
                detail: "the plan runs on the CPU backend; use Plan::run".into(),
            }),
        }
    }

    /// Runs once on zeros, so that every pipeline the model uses is compiled and cached; later
    /// runs only record and submit.
    pub fn warm_up(&mut self) -> Result<()> {
        let zeros = self
            .input_types()
            .into_iter()
            .map(|(name, value_type)| {
                Ok((
                    name,
                    HostTensor::zeros(&value_type.shape, value_type.dtype)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        self.run(&zeros).map(|_| ())
    }

    /// The most bytes of run-time values (graph inputs and node outputs, by their inferred types;
    /// weights excluded) live at once under this plan's drops and moves. The device's buffer pool
    /// rounds each buffer up to its size class, so the memory it holds is at most a quarter more.
    pub fn peak_bytes(&self) -> u64 {
        self.schedule.peak_bytes
    }

    /// The optimised graph the plan runs.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The number of nodes the plan runs.
    pub fn node_count(&self) -> usize {
        self.graph.nodes.len()
    }

    /// The graph inputs' names and bound types, in graph order.
    pub fn input_types(&self) -> Vec<(String, ValueType)> {
        self.typed(self.graph.inputs.iter().map(|input| &input.name))
    }

    /// The graph outputs' names and types, in graph order.
    pub fn output_types(&self) -> Vec<(String, ValueType)> {
        self.typed(self.graph.outputs.iter().map(|output| &output.name))
    }

    fn typed<'n>(&self, names: impl Iterator<Item = &'n String>) -> Vec<(String, ValueType)> {
        names
            .filter_map(|name| Some((name.clone(), self.types.get(name)?.clone())))
            .collect()
    }

    /// Every graph input given once, by name, with the bound dtype and shape.
    fn check_inputs(&self, inputs: &[(String, HostTensor)]) -> Result<()> {
        let expected = self.input_types();
        let invalid = |detail: String| Error::InvalidArgument {
            op: "Plan::run",
            detail,
        };
        let mut seen = HashSet::new();
        for (name, tensor) in inputs {
            let Some((_, bound)) = expected.iter().find(|(input, _)| input == name) else {
                let names: Vec<&str> = expected.iter().map(|(name, _)| name.as_str()).collect();
                return Err(invalid(format!(
                    "'{name}' is not an input of the graph (its inputs: {names:?})"
                )));
            };
            if !seen.insert(name) {
                return Err(invalid(format!("input '{name}' is given twice")));
            }
            if tensor.dtype() != bound.dtype {
                return Err(invalid(format!(
                    "input '{name}' is {}, the graph declares {}",
                    tensor.dtype(),
                    bound.dtype
                )));
            }
            if tensor.shape() != bound.shape {
                return Err(Error::ShapeMismatch {
                    op: "Plan::run",
                    detail: format!(
                        "input '{name}' has shape {:?} but the plan is bound to {:?}; build a \
                         Plan for each input shape",
                        tensor.shape(),
                        bound.shape
                    ),
                });
            }
        }
        if let Some((missing, _)) = expected.iter().find(|(name, _)| !seen.contains(name)) {
            return Err(invalid(format!("input '{missing}' is missing")));
        }
        Ok(())
    }
}

/// Graph outputs named twice cannot each own their tensor.
fn check_unique_outputs(graph: &Graph) -> Result<()> {
    let mut seen = HashSet::new();
    match graph
        .outputs
        .iter()
        .find(|output| !seen.insert(&output.name))
    {
        Some(output) => Err(Error::InvalidModel {
            location: format!("graph output '{}'", output.name),
            detail: "is listed twice".into(),
        }),
        None => Ok(()),
    }
}

/// Uploads every initializer a GPU kernel reads as a tensor, once per dtype it is read in, after
/// checking that every input the GPU reads as a constant is one.
fn upload_weights(device: &Gpu, graph: &Graph) -> Result<HashMap<(String, DType), GpuTensor>> {
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
