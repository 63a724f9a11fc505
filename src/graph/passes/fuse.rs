//! Fusing activations into the epilogue of the Conv, MatMul or Gemm that produces their input,
//! so the activation costs no extra pass over memory. SiLU, which exporters write as
//! `x · Sigmoid(x)` (YOLOv5/v8 are full of Conv → Sigmoid → Mul), is recognised too.

use super::{initializer, remove_flagged, ValueIndex};
use crate::error::Result;
use crate::graph::{Graph, Node, Op};
use crate::ops::elementwise::{BinaryOp, UnaryOp};
use crate::ops::{Activation, PointwiseActivation};

/// One sweep's state: the value index, kept current as producers take over outputs, and the
/// nodes fused away so far (removed together at the end of the sweep, so a sweep is O(n)).
struct Sweep {
    index_of: ValueIndex,
    removed: Vec<bool>,
}

/// Fuses, in two sweeps: every `Mul(x, Sigmoid(x))` (either order) where x's producer is a
/// fusable op and x and the Sigmoid have no other use, as [`Activation::Silu`]; then every
/// activation node (Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Gelu, Softplus, or
/// Clip with initializer bounds) whose input is used only by it. A fusable op is a Conv, MatMul
/// or Gemm with no activation yet whose output is not a graph output. The producer takes over
/// the activation's output name.
pub fn fuse_activations(graph: &mut Graph) -> Result<usize> {
    type Fuse = fn(&mut Graph, usize, &mut Sweep) -> Option<()>;
    let mut fused = 0;
    for fuse_one in [fuse_silu as Fuse, fuse_single] {
        let mut sweep = Sweep {
            index_of: ValueIndex::new(graph),
            removed: vec![false; graph.nodes.len()],
        };
        for index in 0..graph.nodes.len() {
            if fuse_one(graph, index, &mut sweep).is_some() {
                fused += 1;
            }
        }
        remove_flagged(graph, &sweep.removed);
    }
    Ok(fused)
}

/// Fuses the activation node at `index` into its producer; `None` when nothing was fused.
fn fuse_single(graph: &mut Graph, index: usize, sweep: &mut Sweep) -> Option<()> {
    let node = &graph.nodes[index];
    let activation = activation_of(graph, node)?;
    let input = node.input(0)?;
    let producer = fusable_producer(graph, &sweep.index_of, input, 1)?;
    let (input, output) = (input.to_string(), node.outputs.first()?.clone());
    sweep.removed[index] = true;
    take_activation(&mut graph.nodes[producer], activation, &input, &output);
    sweep.index_of.rename_output(&input, &output);
    Some(())
}

/// Fuses `Mul(x, Sigmoid(x))` at `index` into x's producer (the Mul and the Sigmoid go);
/// `None` when nothing was fused.
fn fuse_silu(graph: &mut Graph, index: usize, sweep: &mut Sweep) -> Option<()> {
    let node = &graph.nodes[index];
    if node.op != Op::Binary(BinaryOp::Mul) {
        return None;
    }
    let (left, right) = (node.input(0)?, node.input(1)?);
    let index_of = &sweep.index_of;
    let sigmoid_of = |gate: &str, value: &str| {
        let sigmoid = index_of.producer(gate)?;
        let sigmoid_node = &graph.nodes[sigmoid];
        let is_sigmoid = sigmoid_node.op
            == Op::Unary(UnaryOp::Activation(PointwiseActivation::Sigmoid))
            && sigmoid_node.input(0) == Some(value)
            && index_of.uses(gate) == 1;
        is_sigmoid.then_some(sigmoid)
    };
    let (sigmoid, value) = sigmoid_of(right, left)
        .map(|sigmoid| (sigmoid, left))
        .or_else(|| sigmoid_of(left, right).map(|sigmoid| (sigmoid, right)))?;
    let producer = fusable_producer(graph, index_of, value, 2)?;
    let (value, output) = (value.to_string(), node.outputs.first()?.clone());
    sweep.removed[index] = true;
    sweep.removed[sigmoid] = true;
    take_activation(
        &mut graph.nodes[producer],
        Activation::Silu,
        &value,
        &output,
    );
    sweep.index_of.rename_output(&value, &output);
    Some(())
}

/// The activation an activation node computes: a unary activation, or a Clip whose bounds are
/// absent or one-element initializers (as [`Activation::Clip`]).
fn activation_of(graph: &Graph, node: &Node) -> Option<Activation> {
    match node.op {
        Op::Unary(UnaryOp::Activation(activation)) => Some(activation.into()),
        Op::Clip => {
            let bound = |index: usize, absent: f32| match node.input(index) {
                None => Some(absent),
                Some(name) => {
                    let tensor = initializer(graph, Some(name))?;
                    (tensor.len() == 1).then(|| tensor.to_f64_vec()[0] as f32)
                }
            };
            Some(Activation::Clip {
                min: bound(1, f32::NEG_INFINITY)?,
                max: bound(2, f32::INFINITY)?,
            })
        }
        _ => None,
    }
}

/// The index of `value`'s producer when it is a Conv, MatMul or Gemm without an activation,
/// `value` is not a graph output, and exactly `uses` node inputs read `value`.
fn fusable_producer(
    graph: &Graph,
    index_of: &ValueIndex,
    value: &str,
    uses: usize,
) -> Option<usize> {
    if index_of.is_graph_output(value) || index_of.uses(value) != uses {
        return None;
    }
    let index = index_of.producer(value)?;
    let activation = match &graph.nodes[index].op {
        Op::Conv(attrs) => attrs.activation,
        Op::MatMul { activation } | Op::Gemm { activation, .. } => *activation,
        _ => return None,
    };
    (activation == Activation::Identity).then_some(index)
}

/// Sets `producer`'s activation and renames its output `value` to `output`.
fn take_activation(producer: &mut Node, fused: Activation, value: &str, output: &str) {
    match &mut producer.op {
        Op::Conv(attrs) => attrs.activation = fused,
        Op::MatMul { activation } | Op::Gemm { activation, .. } => *activation = fused,
        _ => {}
    }
    for name in &mut producer.outputs {
        if name == value {
            *name = output.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::SeededRng;
    use crate::graph::passes::testing::{
        activation, assert_same_outputs, conv3x3, f32_input, fused_tolerance, node, output,
        random_inputs, random_tensor, z_bound,
    };
    use crate::graph::ConvAttrs;
    use crate::ops::matmul::reference::F32_UNIT_ROUNDOFF;
    use crate::tensor::HostTensor;

    /// x [4, 8] → MatMul(w [8, 5]) → `op` → y.
    fn matmul_then(op: Op, seed: u64) -> Graph {
        let mut rng = SeededRng::new(seed);
        let mut graph = Graph {
            inputs: vec![f32_input("x", &[4, 8])],
            outputs: vec![output("y")],
            nodes: vec![
                node(
                    "mm",
                    Op::MatMul {
                        activation: Activation::Identity,
                    },
                    &["x", "w"],
                    &["z"],
                ),
                node("act", op, &["z"], &["y"]),
            ],
            ..Graph::default()
        };
        let weight = random_tensor(&mut rng, &[8, 5], -1.0, 1.0);
        graph.initializers.insert("w".into(), weight);
        graph
    }

    fn fused_activation(graph: &Graph) -> Activation {
        match &graph.nodes[0].op {
            Op::Conv(attrs) => attrs.activation,
            Op::MatMul { activation } | Op::Gemm { activation, .. } => *activation,
            other => panic!("not a fusable op: {other:?}"),
        }
    }

    #[test]
    fn every_activation_fuses_into_matmul() {
        for (seed, kind) in PointwiseActivation::ALL.into_iter().enumerate() {
            let before = matmul_then(activation(kind), seed as u64);
            let mut after = before.clone();
            assert_eq!(fuse_activations(&mut after).unwrap(), 1, "{kind:?}");
            after.validate().unwrap();
            assert_eq!(after.nodes.len(), 1);
            assert_eq!(fused_activation(&after), Activation::from(kind));
            assert_eq!(after.nodes[0].outputs, ["y"]);
            let tolerance = fused_tolerance(z_bound(8, 1.0, 0.0));
            assert_same_outputs(&before, &after, &random_inputs(&before, 20), tolerance);
        }
    }

    #[test]
    fn clip_with_constant_bounds_fuses_into_gemm() {
        let gemm = Op::Gemm {
            alpha: 1.0,
            beta: 1.0,
            trans_a: false,
            trans_b: true,
            activation: Activation::Identity,
        };
        let mut rng = SeededRng::new(30);
        let mut before = Graph {
            inputs: vec![f32_input("x", &[3, 6])],
            outputs: vec![output("y")],
            nodes: vec![
                node("gemm", gemm, &["x", "w", "b"], &["z"]),
                node("clip", Op::Clip, &["z", "low", "high"], &["y"]),
            ],
            ..Graph::default()
        };
        let tensors = [
            ("w", random_tensor(&mut rng, &[4, 6], -1.0, 1.0)),
            ("b", random_tensor(&mut rng, &[4], -1.0, 1.0)),
            ("low", HostTensor::from_f32(&[], vec![-0.5]).unwrap()),
            ("high", HostTensor::from_f32(&[], vec![1.5]).unwrap()),
        ];
        before
            .initializers
            .extend(tensors.into_iter().map(|(name, t)| (name.to_string(), t)));
        let mut after = before.clone();
        assert_eq!(fuse_activations(&mut after).unwrap(), 1);
        after.validate().unwrap();
        let clip = Activation::Clip {
            min: -0.5,
            max: 1.5,
        };
        assert_eq!(fused_activation(&after), clip);
        let tolerance = fused_tolerance(z_bound(6, 1.0, 1.0));
        assert_same_outputs(&before, &after, &random_inputs(&before, 31), tolerance);
    }

    /// x → Conv → z; Sigmoid(z) → s; Mul(`mul_inputs`) → y.
    fn conv_silu(mul_inputs: [&str; 2]) -> Graph {
        let mut rng = SeededRng::new(40);
        let sigmoid = activation(PointwiseActivation::Sigmoid);
        let mut graph = Graph {
            inputs: vec![f32_input("x", &[1, 2, 5, 5])],
            outputs: vec![output("y")],
            nodes: vec![
                node("conv", Op::Conv(conv3x3()), &["x", "w"], &["z"]),
                node("sigmoid", sigmoid, &["z"], &["s"]),
                node("mul", Op::Binary(BinaryOp::Mul), &mul_inputs, &["y"]),
            ],
            ..Graph::default()
        };
        let weight = random_tensor(&mut rng, &[3, 2, 3, 3], -0.5, 0.5);
        graph.initializers.insert("w".into(), weight);
        graph
    }

    #[test]
    fn sigmoid_times_input_fuses_as_silu_in_either_order() {
        for mul_inputs in [["z", "s"], ["s", "z"]] {
            let before = conv_silu(mul_inputs);
            let mut after = before.clone();
            assert_eq!(fuse_activations(&mut after).unwrap(), 1);
            after.validate().unwrap();
            assert_eq!(after.nodes.len(), 1);
            assert_eq!(fused_activation(&after), Activation::Silu);
            let tolerance = fused_tolerance(z_bound(2 * 9, 0.5, 0.0));
            assert_same_outputs(&before, &after, &random_inputs(&before, 41), tolerance);
        }
    }

    #[test]
    fn interleaved_silu_blocks_all_fuse() {
        let mut rng = SeededRng::new(45);
        let sigmoid = || activation(PointwiseActivation::Sigmoid);
        let mul = || Op::Binary(BinaryOp::Mul);
        // Two branches whose nodes interleave, as exporters order parallel detection heads.
        let mut before = Graph {
            inputs: vec![f32_input("x", &[1, 2, 5, 5])],
            outputs: vec![output("y")],
            nodes: vec![
                node("conv_a", Op::Conv(conv3x3()), &["x", "w"], &["za"]),
                node("conv_b", Op::Conv(conv3x3()), &["x", "w"], &["zb"]),
                node("sigmoid_a", sigmoid(), &["za"], &["sa"]),
                node("sigmoid_b", sigmoid(), &["zb"], &["sb"]),
                node("mul_a", mul(), &["za", "sa"], &["ya"]),
                node("mul_b", mul(), &["sb", "zb"], &["yb"]),
                node("add", Op::Binary(BinaryOp::Add), &["ya", "yb"], &["y"]),
            ],
            ..Graph::default()
        };
        let weight = random_tensor(&mut rng, &[3, 2, 3, 3], -0.5, 0.5);
        before.initializers.insert("w".into(), weight);
        let mut after = before.clone();
        assert_eq!(fuse_activations(&mut after).unwrap(), 2);
        after.validate().unwrap();
        let ops: Vec<&str> = after.nodes.iter().map(|n| n.op.name()).collect();
        assert_eq!(ops, ["Conv", "Conv", "Add"]);
        // Each branch is within the fused tolerance, and each graph rounds the Add of two such
        // values, a sum of magnitude at most 2·z_max, once.
        let z_max = z_bound(2 * 9, 0.5, 0.0);
        let sum_rounding = (2.0 * F32_UNIT_ROUNDOFF * 2.0 * z_max) as f32;
        let tolerance = 2.0 * fused_tolerance(z_max) + sum_rounding;
        assert_same_outputs(&before, &after, &random_inputs(&before, 46), tolerance);
    }

    #[test]
    fn shared_or_output_values_and_taken_epilogues_block_fusion() {
        let mut output_z = matmul_then(activation(PointwiseActivation::Relu), 50);
        output_z.outputs.push(output("z"));
        assert_eq!(fuse_activations(&mut output_z).unwrap(), 0);
        let mut shared_gate = conv_silu(["z", "s"]);
        shared_gate.outputs.push(output("s"));
        assert_eq!(fuse_activations(&mut shared_gate).unwrap(), 0);
        let mut taken = conv_silu(["z", "s"]);
        taken.nodes[0].op = Op::Conv(ConvAttrs {
            activation: Activation::Relu,
            ..conv3x3()
        });
        assert_eq!(fuse_activations(&mut taken).unwrap(), 0);
    }
}
