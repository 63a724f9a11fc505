//! What both test families share: the unlowered float path, and a lowered run through a Plan.

use std::collections::HashMap;

use kiln::graph::eval::eval_node;
use kiln::graph::{Graph, Op};
use kiln::runtime::{Backend, Plan};
use kiln::tensor::HostTensor;

/// Runs `graph` node by node with the IR's reference ([`eval_node`]), no passes: the float path
/// with every DQ and Q as written.
pub fn run_unlowered(graph: &Graph, inputs: &[(String, HostTensor)]) -> Vec<HostTensor> {
    let mut values: HashMap<String, HostTensor> = graph.initializers.clone().into_iter().collect();
    values.extend(inputs.iter().cloned());
    for node in &graph.nodes {
        let node_inputs: Vec<Option<&HostTensor>> = (node.inputs.iter())
            .map(|input| input.as_ref().map(|name| &values[name]))
            .collect();
        let outputs = eval_node(node, &node_inputs).expect("the node evaluates");
        values.extend(node.outputs.iter().cloned().zip(outputs));
    }
    (graph.outputs.iter())
        .map(|output| values[&output.name].clone())
        .collect()
}

/// Runs `graph` through a [`Plan`] (passes included, so lowered) on `backend`; returns the
/// outputs and how many QLinearConv nodes the plan runs.
pub fn run_lowered(
    graph: &Graph,
    inputs: &[(String, HostTensor)],
    backend: Backend<'_>,
) -> (Vec<HostTensor>, usize) {
    let shapes: Vec<(String, Vec<usize>)> = (inputs.iter())
        .map(|(name, tensor)| (name.clone(), tensor.shape().to_vec()))
        .collect();
    let mut plan = Plan::new(graph, &shapes, backend).expect("the plan builds");
    let lowered = (plan.graph().nodes.iter())
        .filter(|node| matches!(node.op, Op::QLinearConv(_)))
        .count();
    let outputs = plan.run(inputs).expect("the plan runs");
    (
        outputs.into_iter().map(|(_, tensor)| tensor).collect(),
        lowered,
    )
}

/// The ops a [`Plan`] on the CPU runs for `graph`, in order.
pub fn plan_ops(graph: &Graph, inputs: &[(String, HostTensor)]) -> Vec<&'static str> {
    let shapes: Vec<(String, Vec<usize>)> = (inputs.iter())
        .map(|(name, tensor)| (name.clone(), tensor.shape().to_vec()))
        .collect();
    let plan = Plan::new(graph, &shapes, Backend::Cpu).expect("the plan builds");
    plan.graph()
        .nodes
        .iter()
        .map(|node| node.op.name())
        .collect()
}
