//! The QDQ lowering's pattern matching: what it lowers, how the result is wired, and the reason
//! it gives for each Conv it leaves in float. Its numerics (lowered against unlowered, CPU against
//! GPU, onnxruntime's models) are tested in `tests/quantized_interop.rs`.

use super::*;
use crate::graph::passes::eliminate_dead_nodes;
use crate::graph::passes::testing::{activation, conv3x3, f32_input, node, output};
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::TensorData;

fn tensor(shape: &[usize], data: TensorData) -> HostTensor {
    HostTensor::new(shape, data).unwrap()
}

/// `x → Q → DQ → conv1 (bias) → Relu → Q → DQ → conv2 → Q → y_q`, 3 → 5 → 7 channels, uint8
/// activations with zero point 128, per-channel int8 weights.
pub(crate) fn chain() -> Graph {
    let quantize = || Op::QuantizeLinear {
        axis: 1,
        saturate: true,
    };
    let dequantize = |axis| Op::DequantizeLinear { axis };
    let conv = || Op::Conv(conv3x3());
    let mut graph = Graph {
        inputs: vec![f32_input("x", &[1, 3, 5, 7])],
        outputs: vec![output("y_q")],
        nodes: vec![
            node("q0", quantize(), &["x", "s0", "z"], &["x_q"]),
            node("dq0", dequantize(1), &["x_q", "s0", "z"], &["x_f"]),
            node("dq_w1", dequantize(0), &["w1", "w1_s"], &["w1_f"]),
            node("dq_b1", dequantize(0), &["b1", "b1_s"], &["b1_f"]),
            node("conv1", conv(), &["x_f", "w1_f", "b1_f"], &["c1"]),
            node(
                "relu1",
                activation(PointwiseActivation::Relu),
                &["c1"],
                &["r1"],
            ),
            node("q1", quantize(), &["r1", "s1", "z"], &["q1"]),
            node("dq1", dequantize(1), &["q1", "s1", "z"], &["d1"]),
            node("dq_w2", dequantize(0), &["w2", "w2_s"], &["w2_f"]),
            node("conv2", conv(), &["d1", "w2_f"], &["c2"]),
            node("q2", quantize(), &["c2", "s2", "z"], &["y_q"]),
        ],
        ..Graph::default()
    };
    let f32s = |values: Vec<f32>| tensor(&[values.len()], TensorData::F32(values));
    let scalar = |value: f32| tensor(&[], TensorData::F32(vec![value]));
    let w1_scales = vec![0.01, 0.02, 0.015, 0.005, 0.03];
    let b1_scales = w1_scales.iter().map(|s| s * 0.01).collect();
    let tensors = [
        ("s0", scalar(0.01)),
        ("s1", scalar(0.05)),
        ("s2", scalar(0.1)),
        ("z", tensor(&[], TensorData::U8(vec![128]))),
        (
            "w1",
            tensor(
                &[5, 3, 3, 3],
                TensorData::I8((0..135).map(|v| (v % 19 - 9) as i8).collect()),
            ),
        ),
        ("w1_s", f32s(w1_scales)),
        (
            "b1",
            tensor(&[5], TensorData::I32(vec![100, -50, 0, 7, -3])),
        ),
        ("b1_s", f32s(b1_scales)),
        (
            "w2",
            tensor(
                &[7, 5, 3, 3],
                TensorData::I8((0..315).map(|v| (v % 23 - 11) as i8).collect()),
            ),
        ),
        ("w2_s", scalar(0.02)),
    ];
    graph
        .initializers
        .extend(tensors.into_iter().map(|(name, t)| (name.to_string(), t)));
    graph
}

#[test]
fn a_chain_of_quantized_convs_stays_in_integers() {
    let mut graph = chain();
    let report = lower_qdq_report(&mut graph).unwrap();
    assert_eq!(report.lowered, ["conv1", "conv2"]);
    assert!(report.kept_float.is_empty());
    eliminate_dead_nodes(&mut graph).unwrap();
    let ops: Vec<&str> = graph.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(ops, ["QuantizeLinear", "QLinearConv", "QLinearConv"]);
    let conv1 = &graph.nodes[1];
    assert!(matches!(&conv1.op, Op::QLinearConv(a) if a.activation == Activation::Relu));
    let inputs: Vec<&str> = conv1.inputs.iter().flatten().map(String::as_str).collect();
    let synthesized = "conv1::w_zero_point";
    let expected = ["x_q", "s0", "z", "w1", "w1_s", synthesized, "s1", "z", "b1"];
    assert_eq!(inputs, expected);
    assert_eq!(graph.initializers[synthesized].dtype(), DType::I8);
    // The Q of conv1 and the DQ of conv2 collapsed: conv2 reads conv1's uint8 output.
    assert_eq!(graph.nodes[2].input(0), Some("q1"));
    assert_eq!(graph.nodes[2].inputs.len(), 8);
    assert!(
        matches!(&graph.nodes[2].op, Op::QLinearConv(a) if a.activation == Activation::Identity)
    );
    graph.validate().unwrap();
}

/// The reason `chain()`, changed by `edit`, gives for leaving conv1 in float.
fn refusal(edit: impl FnOnce(&mut Graph)) -> String {
    let mut graph = chain();
    edit(&mut graph);
    let report = lower_qdq_report(&mut graph).unwrap();
    let (name, reason) = report
        .kept_float
        .first()
        .cloned()
        .expect("conv1 stays float");
    assert_eq!(name, "conv1");
    reason
}

#[test]
fn what_cannot_be_lowered_stays_float_with_a_reason() {
    let uint8_weight = refusal(|g| {
        let w = tensor(&[5, 3, 3, 3], TensorData::U8(vec![3; 135]));
        g.initializers.insert("w1".into(), w);
    });
    assert!(
        uint8_weight.contains("not a 4-D int8 initializer"),
        "{uint8_weight}"
    );
    let bias_scale = refusal(|g| {
        g.initializers
            .insert("b1_s".into(), tensor(&[], TensorData::F32(vec![0.5])));
    });
    assert!(bias_scale.contains("bias scale"), "{bias_scale}");
    let also_an_output = refusal(|g| g.outputs.push(output("c1")));
    assert!(
        also_an_output.contains("exactly one QuantizeLinear"),
        "{also_an_output}"
    );
    let float_input = refusal(|g| g.nodes[4].inputs[0] = Some("x".into()));
    assert!(
        float_input.contains("input is not a DequantizeLinear"),
        "{float_input}"
    );
    let per_axis_input = refusal(|g| {
        g.initializers
            .insert("s0".into(), tensor(&[3], TensorData::F32(vec![0.01; 3])));
        g.initializers
            .insert("z".into(), tensor(&[3], TensorData::U8(vec![128; 3])));
    });
    assert!(
        per_axis_input.contains("not per-tensor"),
        "{per_axis_input}"
    );
    let nonzero_weight_zero = refusal(|g| {
        g.nodes[2].inputs.push(Some("w_zero".into()));
        g.initializers
            .insert("w_zero".into(), tensor(&[], TensorData::I8(vec![1])));
    });
    assert!(
        nonzero_weight_zero.contains("symmetric int8"),
        "{nonzero_weight_zero}"
    );
}

/// `chain()` with `dq1 → MaxPool 3×3 (pad 1) → Q(s1 or `pool_scale`, z) → DQ` before conv2.
fn chain_with_max_pool(pool_scale: &str) -> Graph {
    let mut graph = chain();
    let pool = Op::MaxPool(crate::graph::PoolAttrs {
        kernel_shape: vec![3, 3],
        strides: vec![1, 1],
        pads: vec![1; 4],
        dilations: vec![1, 1],
        ceil_mode: false,
        count_include_pad: false,
        auto_pad: crate::graph::AutoPad::NotSet,
    });
    let quantize = Op::QuantizeLinear {
        axis: 1,
        saturate: true,
    };
    let dequantize = Op::DequantizeLinear { axis: 1 };
    let added = [
        node("pool", pool, &["d1"], &["p"]),
        node("q_pool", quantize, &["p", pool_scale, "z"], &["p_q"]),
        node("dq_pool", dequantize, &["p_q", pool_scale, "z"], &["p_f"]),
    ];
    graph.nodes.splice(8..8, added);
    let conv2 = graph.nodes.iter_mut().find(|n| n.name == "conv2").unwrap();
    conv2.inputs[0] = Some("p_f".into());
    graph
}

#[test]
fn a_max_pool_between_quantized_convs_stays_in_integers() {
    let mut graph = chain_with_max_pool("s1");
    let report = lower_qdq_report(&mut graph).unwrap();
    assert_eq!(report.lowered, ["conv1", "pool", "conv2"]);
    eliminate_dead_nodes(&mut graph).unwrap();
    let ops: Vec<&str> = graph.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(
        ops,
        ["QuantizeLinear", "QLinearConv", "MaxPool", "QLinearConv"]
    );
    assert_eq!(graph.nodes[2].inputs, [Some("q1".to_string())]);
    assert_eq!(graph.nodes[3].input(0), Some("p_q"));
    graph.validate().unwrap();
    // Another scale after the pool is a requantization: the pool stays float.
    let mut rescaled = chain_with_max_pool("s2");
    let report = lower_qdq_report(&mut rescaled).unwrap();
    assert_eq!(report.lowered, ["conv1", "conv2"]);
    let (name, reason) = &report.kept_float[0];
    assert_eq!(name, "pool");
    assert!(reason.contains("differ"), "{reason}");
}

#[test]
fn every_node_after_the_passes_says_integer_conversion_or_float_with_the_reason() {
    let mut graph = chain();
    // conv1 reads the float input directly: the lowering refuses it, conv2 stays lowered.
    graph.nodes[4].inputs[0] = Some("x".into());
    let options = crate::graph::passes::PassOptions::default();
    let (report, lowering) =
        crate::graph::passes::optimize_with(&mut graph, &[], &options).unwrap();
    assert_eq!(report.qdq_nodes_lowered, 1);
    let nodes = node_arithmetic(&graph, &lowering);
    let of = |name: &str| {
        let found = nodes.iter().find(|node| node.node == name);
        found
            .unwrap_or_else(|| panic!("{name} in {nodes:?}"))
            .clone()
    };
    assert_eq!(of("conv2").arithmetic, Arithmetic::Integer);
    assert_eq!(of("conv2").op, "QLinearConv");
    assert_eq!(of("q1").arithmetic, Arithmetic::Conversion);
    match of("conv1").arithmetic {
        Arithmetic::Float(reason) => {
            assert!(
                reason.contains("input is not a DequantizeLinear"),
                "{reason}"
            )
        }
        other => panic!("conv1 runs as {other}"),
    }
    let table = arithmetic_table(&nodes);
    assert!(
        table.contains("| conv2 | QLinearConv | integer |"),
        "{table}"
    );
    assert!(table.contains("| conv1 | Conv | float: "), "{table}");
    let integers = nodes.iter().filter(|n| n.arithmetic == Arithmetic::Integer);
    let summary = format!("{} nodes in integers", integers.count());
    assert!(table.contains(&summary), "{table}");
    let unlowered = crate::graph::passes::PassOptions { lower_qdq: false };
    let (_, nothing) = crate::graph::passes::optimize_with(&mut chain(), &[], &unlowered).unwrap();
    assert_eq!(nothing, QdqLowering::default());
}
