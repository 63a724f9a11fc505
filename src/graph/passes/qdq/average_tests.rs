//! The average-pool lowering (within one step of the float path) and the border rule: after the
//! passes a mixed graph dequantizes each value once ([`border_conversions`]), and the check
//! reports a round trip or a repeated DQ when there is one.

use super::passthrough_tests::{
    between_qdq, i64s, pool_attrs, refusal, tensor, zero_points, SCALE,
};
use super::*;
use crate::graph::passes::eliminate_dead_nodes;
use crate::graph::passes::testing::random_inputs;
use crate::graph::passes::testing::{activation, assert_same_outputs, f32_input, node, output};
use crate::graph::PoolAttrs;
use crate::ops::PointwiseActivation;
use crate::tensor::TensorData;

#[test]
fn average_pools_run_as_quantized_averages_within_one_step() {
    let mut padded = pool_attrs([3, 2], [2, 1], [1, 0, 1, 1]);
    let ceil_included = PoolAttrs {
        ceil_mode: true,
        count_include_pad: true,
        ..padded.clone()
    };
    padded.strides = vec![1, 2];
    for zero in zero_points() {
        for op in [
            Op::AveragePool(padded.clone()),
            Op::AveragePool(ceil_included.clone()),
            Op::GlobalAveragePool,
        ] {
            // Another output scale: the average requantizes.
            let graph = between_qdq(op.clone(), &[], 1, &zero, 0.75 * SCALE);
            let mut lowered = graph.clone();
            let report = lower_qdq_report(&mut lowered).unwrap();
            assert_eq!(report.lowered, ["op"], "{op:?}");
            eliminate_dead_nodes(&mut lowered).unwrap();
            let quantized = match op {
                Op::GlobalAveragePool => "QLinearGlobalAveragePool",
                _ => "QLinearAveragePool",
            };
            let ops: Vec<&str> = lowered.nodes.iter().map(|n| n.op.name()).collect();
            assert_eq!(ops, ["QuantizeLinear", quantized]);
            let inputs: Vec<&str> = lowered.nodes[1]
                .inputs
                .iter()
                .flatten()
                .map(String::as_str)
                .collect();
            assert_eq!(inputs, ["x_q", "s", "z", "s_out", "z"]);
            // The bound derived in ops::pooling::qlinear: one output step, 1.0 in integers.
            assert_same_outputs(&graph, &lowered, &random_inputs(&graph, 3), 1.0);
        }
    }
    let [unsigned, signed] = zero_points();
    let mut retyped = between_qdq(Op::GlobalAveragePool, &[], 1, &unsigned, SCALE);
    retyped.initializers.insert("z_out".into(), signed);
    retyped.nodes[3].inputs[2] = Some("z_out".into());
    let reason = refusal(retyped);
    assert!(
        reason.contains("requantizes u8 to i8") || reason.contains("keeps the type"),
        "{reason}"
    );
}

/// `x → Q → DQ → Reshape → Q → DQ → MaxPool → Q → DQ → {Softmax, Sigmoid}`: after the passes
/// the moves run on the integers and the float nodes read one DQ of the pool's output.
#[test]
fn after_the_passes_a_mixed_graph_dequantizes_each_value_once() {
    let quantize = || Op::QuantizeLinear {
        axis: 1,
        saturate: true,
    };
    let dequantize = || Op::DequantizeLinear { axis: 1 };
    let softmax = Op::Softmax {
        axis: -1,
        coerce_2d: false,
    };
    let mut graph = Graph {
        inputs: vec![f32_input("x", &[1, 3, 5, 6])],
        outputs: vec![output("soft"), output("sig")],
        nodes: vec![
            node("q0", quantize(), &["x", "s", "z"], &["x_q"]),
            node("dq0", dequantize(), &["x_q", "s", "z"], &["x_f"]),
            node(
                "reshape",
                Op::Reshape { allowzero: false },
                &["x_f", "shape"],
                &["r"],
            ),
            node("q1", quantize(), &["r", "s", "z"], &["r_q"]),
            node("dq1", dequantize(), &["r_q", "s", "z"], &["r_f"]),
            node(
                "pool",
                Op::MaxPool(pool_attrs([2, 2], [1, 1], [0; 4])),
                &["r_f"],
                &["p"],
            ),
            node("q2", quantize(), &["p", "s", "z"], &["p_q"]),
            node("dq2", dequantize(), &["p_q", "s", "z"], &["p_f"]),
            node("softmax", softmax, &["p_f"], &["soft"]),
            node(
                "sigmoid",
                activation(PointwiseActivation::Sigmoid),
                &["p_f"],
                &["sig"],
            ),
        ],
        ..Graph::default()
    };
    let [zero, _] = zero_points();
    graph
        .initializers
        .insert("s".into(), tensor(&[], TensorData::F32(vec![SCALE])));
    graph.initializers.insert("z".into(), zero);
    graph
        .initializers
        .insert("shape".into(), i64s(&[1, 3, 6, 5]));
    let original = graph.clone();
    let options = crate::graph::passes::PassOptions::default();
    let (_, lowering) = crate::graph::passes::optimize_with(&mut graph, &[], &options).unwrap();
    assert_eq!(lowering.lowered, ["reshape", "pool"]);
    assert!(
        border_conversions(&graph).is_empty(),
        "{:?}",
        border_conversions(&graph)
    );
    let kinds: Vec<(&str, Arithmetic)> = node_arithmetic(&graph, &lowering)
        .into_iter()
        .map(|n| (n.op, n.arithmetic))
        .collect();
    let float =
        |op: &str| Arithmetic::Float(format!("the QDQ lowering has no integer form of {op}"));
    assert_eq!(
        kinds,
        [
            ("QuantizeLinear", Arithmetic::Conversion),
            ("Reshape", Arithmetic::Integer),
            ("MaxPool", Arithmetic::Integer),
            ("DequantizeLinear", Arithmetic::Conversion),
            ("Softmax", float("Softmax")),
            ("Sigmoid", float("Sigmoid")),
        ]
    );
    assert_same_outputs(&original, &graph, &random_inputs(&original, 1), 0.0);
    // The check can fail: a DQ → Q round trip and a repeated DQ are both reported.
    let mut broken = graph.clone();
    broken.nodes.push(node(
        "dq_again",
        dequantize(),
        &["p_q", "s", "z"],
        &["p_f2"],
    ));
    broken
        .nodes
        .push(node("q_again", quantize(), &["p_f2", "s", "z"], &["p_q2"]));
    broken.outputs.push(output("p_q2"));
    let found = border_conversions(&broken);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains("repeats") && found[1].contains("same quantization"),
        "{found:?}"
    );
}
