//! The node loop of one run on each backend: operands gathered from the live values, the uploaded
//! weights and the host constants; relabels that consume their input take its buffer; values are
//! dropped after their last reader, which on the GPU returns their buffers to the pool for the
//! nodes after. Nothing here submits or waits: the GPU loop only records.

use std::collections::HashMap;

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::graph::{Graph, Node};
use crate::runtime::plan::Plan;
use crate::runtime::{cpu, gpu};
use crate::tensor::{GpuTensor, HostTensor};

/// Records every node of `plan` on `device` and returns the graph outputs, still on the device.
pub(super) fn run_gpu(
    plan: &Plan<'_>,
    device: &Gpu,
    inputs: &[(String, HostTensor)],
) -> Result<Vec<(String, GpuTensor)>> {
    let mut values = HashMap::new();
    for (name, host) in inputs {
        if plan.schedule.needed_inputs.contains(name) {
            values.insert(name.clone(), gpu::upload(device, host)?);
        }
    }
    for (step, node) in plan.graph.nodes.iter().enumerate() {
        let constants = constants_of(&plan.graph, node);
        let outputs = if plan.schedule.moves[step] {
            let tensor = take(&mut values, node)?;
            let shape = gpu::relabel_shape(node, tensor.shape(), &constants)?;
            vec![tensor.reshape(&shape)?]
        } else {
            let tensors = node
                .inputs
                .iter()
                .enumerate()
                .map(|(index, name)| device_operand(plan, &values, node, index, name.as_deref()))
                .collect::<Result<Vec<_>>>()?;
            gpu::eval_node(device, node, &tensors, &constants)?
        };
        finish_step(&mut values, node, outputs, &plan.schedule.drops[step])?;
    }
    collect_outputs(&plan.graph, values, |host| gpu::upload(device, host))
}

/// Evaluates every node of `plan` with the CPU reference backend.
pub(super) fn run_cpu(
    plan: &Plan<'_>,
    inputs: &[(String, HostTensor)],
) -> Result<Vec<(String, HostTensor)>> {
    let mut values: HashMap<String, HostTensor> = inputs
        .iter()
        .filter(|(name, _)| plan.schedule.needed_inputs.contains(name))
        .cloned()
        .collect();
    for (step, node) in plan.graph.nodes.iter().enumerate() {
        let operands = node
            .inputs
            .iter()
            .map(|name| match name {
                None => Ok(None),
                Some(name) => match plan.graph.initializers.get(name) {
                    Some(host) => Ok(Some(host)),
                    None => live(&values, node, name).map(Some),
                },
            })
            .collect::<Result<Vec<_>>>()?;
        let outputs = if plan.schedule.moves[step] {
            let source = operands.first().copied().flatten();
            let source_shape = source.map(|tensor| tensor.shape().to_vec());
            let shape = gpu::relabel_shape(node, &source_shape.unwrap_or_default(), &operands)?;
            vec![take(&mut values, node)?.reshaped(&shape)?]
        } else {
            cpu::eval_node(node, &operands)?
        };
        finish_step(&mut values, node, outputs, &plan.schedule.drops[step])?;
    }
    collect_outputs(&plan.graph, values, |host| Ok(host.clone()))
}

/// The host value of each of `node`'s inputs that is an initializer.
fn constants_of<'g>(graph: &'g Graph, node: &Node) -> Vec<Option<&'g HostTensor>> {
    node.inputs
        .iter()
        .map(|name| name.as_ref().and_then(|name| graph.initializers.get(name)))
        .collect()
}

/// Input `index` of `node` as the GPU backend reads it: a live value, an uploaded weight, or
/// `None` when omitted or read only as a constant.
fn device_operand<'v>(
    plan: &'v Plan<'_>,
    values: &'v HashMap<String, GpuTensor>,
    node: &Node,
    index: usize,
    name: Option<&str>,
) -> Result<Option<&'v GpuTensor>> {
    let Some(name) = name else { return Ok(None) };
    let Some(host) = plan.graph.initializers.get(name) else {
        return live(values, node, name).map(Some);
    };
    if gpu::reads_as_constant(&node.op, index) {
        return Ok(None);
    }
    let dtype = gpu::device_dtype(&node.op, index, host.dtype());
    plan.weights
        .get(&(name.to_string(), dtype))
        .map(Some)
        .ok_or_else(|| not_live(node, name))
}

/// The live value `name` that `node` reads.
fn live<'v, T>(values: &'v HashMap<String, T>, node: &Node, name: &str) -> Result<&'v T> {
    values.get(name).ok_or_else(|| not_live(node, name))
}

/// Removes and returns the first input of a relabelling `node`, which the schedule moves.
fn take<T>(values: &mut HashMap<String, T>, node: &Node) -> Result<T> {
    let name = node.input(0).unwrap_or_default();
    values.remove(name).ok_or_else(|| not_live(node, name))
}

fn not_live(node: &Node, name: &str) -> Error {
    Error::InvalidModel {
        location: node.location(),
        detail: format!("reads '{name}', which is not live at this point of the plan"),
    }
}

/// Stores `node`'s outputs, then drops the values the schedule says die here.
fn finish_step<T>(
    values: &mut HashMap<String, T>,
    node: &Node,
    outputs: Vec<T>,
    drops: &[String],
) -> Result<()> {
    if outputs.len() != node.outputs.len() {
        return Err(Error::InvalidModel {
            location: node.location(),
            detail: format!(
                "produced {} outputs, the node lists {}",
                outputs.len(),
                node.outputs.len()
            ),
        });
    }
    values.extend(node.outputs.iter().cloned().zip(outputs));
    for name in drops {
        values.remove(name);
    }
    Ok(())
}

/// The graph outputs in order: live values, or copies of initializers made by `from_host`.
fn collect_outputs<T>(
    graph: &Graph,
    mut values: HashMap<String, T>,
    from_host: impl Fn(&HostTensor) -> Result<T>,
) -> Result<Vec<(String, T)>> {
    graph
        .outputs
        .iter()
        .map(|output| {
            let name = &output.name;
            let value = match (values.remove(name), graph.initializers.get(name)) {
                (Some(value), _) => value,
                (None, Some(host)) => from_host(host)?,
                (None, None) => {
                    return Err(Error::InvalidModel {
                        location: format!("graph output '{name}'"),
                        detail: "was not computed by the plan".into(),
                    })
                }
            };
            Ok((name.clone(), value))
        })
        .collect()
}
