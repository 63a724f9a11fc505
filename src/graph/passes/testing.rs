//! Small graphs for the pass tests, and the check every pass test ends with: the graph before and
//! after the pass, run by the CPU reference backend on the same seeded inputs, give equal outputs.

use crate::check::{compare, SeededRng};
use crate::graph::eval::eval_node;
use crate::graph::{ConvAttrs, Dim, Graph, Node, Op, ValueInfo};
use crate::ops::elementwise::UnaryOp;
use crate::ops::matmul::reference::F32_UNIT_ROUNDOFF;
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::HostTensor;
use std::collections::HashMap;

/// An f32 graph input or output with a fixed shape.
pub fn f32_input(name: &str, shape: &[usize]) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: Some(crate::tensor::DType::F32),
        shape: Some(shape.iter().map(|&dim| Dim::Fixed(dim)).collect()),
    }
}

/// A graph output declaring neither dtype nor shape.
pub fn output(name: &str) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: None,
        shape: None,
    }
}

/// A node reading `inputs` and writing `outputs`.
pub fn node(name: &str, op: Op, inputs: &[&str], outputs: &[&str]) -> Node {
    Node {
        name: name.into(),
        op,
        inputs: inputs.iter().map(|input| Some(input.to_string())).collect(),
        outputs: outputs.iter().map(|output| output.to_string()).collect(),
    }
}

/// A unary op.
pub fn unary(op: UnaryOp) -> Op {
    Op::Unary(op)
}

/// An activation op.
pub fn activation(activation: PointwiseActivation) -> Op {
    Op::Unary(UnaryOp::Activation(activation))
}

/// A 3×3, stride 1, pad 1 convolution with no activation.
pub fn conv3x3() -> ConvAttrs {
    ConvAttrs {
        kernel_shape: vec![3, 3],
        strides: vec![1, 1],
        pads: vec![1, 1, 1, 1],
        dilations: vec![1, 1],
        group: 1,
        auto_pad: crate::graph::AutoPad::NotSet,
        activation: Activation::Identity,
    }
}

/// An f32 tensor of `shape` with elements uniform in `[low, high)`.
pub fn random_tensor(rng: &mut SeededRng, shape: &[usize], low: f32, high: f32) -> HostTensor {
    let count = shape.iter().product();
    HostTensor::from_f32(shape, rng.uniform_vec(count, low, high)).expect("count matches")
}

/// The difference fusing may make when the pre-activation `z` is bounded by `z_max`. One
/// path may round `z` to f32 where the other does not (≤ u·|z|, times the activation's slope,
/// at most 1.5 for HardSwish; for SiLU the gate's own rounding adds u·|z|: ≤ 3u·|z| in all),
/// and each path rounds its result once (≤ 2u·|y|, with |y| ≤ |z| + 1 for every activation
/// here: Softplus adds at most ln 2, the sigmoid-like ones stay within 1).
pub fn fused_tolerance(z_max: f64) -> f32 {
    (F32_UNIT_ROUNDOFF * (3.0 * z_max + 2.0 * (z_max + 1.0))) as f32
}

/// The bound on |z| for inputs in [-1, 1): K products of at most `w_max`, plus `b_max`.
pub fn z_bound(k: usize, w_max: f64, b_max: f64) -> f64 {
    k as f64 * w_max + b_max
}

/// Inputs in `[-1, 1)` for every graph input, of its declared fixed shape.
pub fn random_inputs(graph: &Graph, seed: u64) -> Vec<(String, HostTensor)> {
    let mut rng = SeededRng::new(seed);
    graph
        .inputs
        .iter()
        .map(|input| {
            let shape: Vec<usize> = input
                .shape
                .iter()
                .flatten()
                .map(|dim| match dim {
                    Dim::Fixed(size) => *size,
                    Dim::Symbol(_) => panic!("test inputs have fixed shapes"),
                })
                .collect();
            (
                input.name.clone(),
                random_tensor(&mut rng, &shape, -1.0, 1.0),
            )
        })
        .collect()
}

/// Runs both graphs on `inputs` and checks that every output matches within `tolerance`
/// (absolute, per element).
#[track_caller]
pub fn assert_same_outputs(
    before: &Graph,
    after: &Graph,
    inputs: &[(String, HostTensor)],
    tolerance: f32,
) {
    let want = run_in_order(before, inputs);
    let got = run_in_order(after, inputs);
    assert_eq!(want.len(), got.len(), "output count");
    for ((want_name, want), (got_name, got)) in want.iter().zip(&got) {
        assert_eq!(want_name, got_name);
        assert_eq!(want.shape(), got.shape(), "{want_name}");
        let (want, got) = (want.to_f64_vec(), got.to_f64_vec());
        let to_f32 = |values: &[f64]| values.iter().map(|&v| v as f32).collect::<Vec<_>>();
        let tolerances = vec![tolerance; want.len()];
        compare(want_name, &to_f32(&got), &to_f32(&want), &tolerances).assert_passed();
    }
}

/// Runs `graph` node by node with [`eval_node`] (the IR's meaning, no runtime involved) and
/// returns its outputs in `graph.outputs` order. Pass tests use dense initializers only.
#[track_caller]
fn run_in_order(graph: &Graph, inputs: &[(String, HostTensor)]) -> Vec<(String, HostTensor)> {
    graph.validate().expect("the graph is valid");
    assert!(
        graph.packed_weights.is_empty(),
        "pass tests use dense weights"
    );
    let mut values: HashMap<&str, HostTensor> = (graph.initializers.iter())
        .map(|(name, tensor)| (name.as_str(), tensor.clone()))
        .chain(
            inputs
                .iter()
                .map(|(name, tensor)| (name.as_str(), tensor.clone())),
        )
        .collect();
    for node in &graph.nodes {
        let node_inputs: Vec<Option<&HostTensor>> = (node.inputs.iter())
            .map(|input| input.as_deref().map(|name| &values[name]))
            .collect();
        let outputs = eval_node(node, &node_inputs).expect("the node evaluates");
        for (name, tensor) in node.outputs.iter().zip(outputs) {
            values.insert(name.as_str(), tensor);
        }
    }
    (graph.outputs.iter())
        .map(|output| (output.name.clone(), values[output.name.as_str()].clone()))
        .collect()
}
