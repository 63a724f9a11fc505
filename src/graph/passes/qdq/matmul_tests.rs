//! The MatMul/Gemm QDQ lowering: what it lowers and how, the reasons it gives for what it leaves
//! in float, and its numerics against the unlowered float path (node by node with the IR's
//! reference) within bounds derived from the requantization steps.

use super::*;
use crate::graph::passes::eliminate_dead_nodes;
use crate::graph::passes::testing::{
    activation, assert_same_outputs, f32_input, node, output, random_inputs,
};
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::TensorData;

fn tensor(shape: &[usize], data: TensorData) -> HostTensor {
    HostTensor::new(shape, data).unwrap()
}

const X_SCALE: f32 = 1.0 / 127.0;
const H_SCALE: f32 = 0.05;
const Y_SCALE: f32 = 0.1;
/// Per-column scales of the second layer's weight.
const W2_SCALES: [f32; 5] = [0.02, 0.01, 0.03, 0.015, 0.025];
/// Per-column zero points of the second layer's int8 weight.
const W2_ZERO_POINTS: [i8; 5] = [0, -3, 5, 127, -128];

fn w2_values() -> Vec<i8> {
    (0..60).map(|v: i32| (v * 7 % 19 - 9) as i8).collect()
}

/// `x → Q → DQ → gemm1 (transB, int32 bias) → Relu → Q → DQ → matmul2 → Q → y_q`: 20 → 12 → 5
/// features, uint8 activations (zero point 128), per-row int8 weights for the Gemm, per-column
/// int8 weights with zero points for the MatMul, int8 output.
fn mlp() -> Graph {
    let quantize = || Op::QuantizeLinear {
        axis: 1,
        saturate: true,
    };
    let dequantize = |axis| Op::DequantizeLinear { axis };
    let gemm = Op::Gemm {
        alpha: 1.0,
        beta: 1.0,
        trans_a: false,
        trans_b: true,
        activation: Activation::Identity,
    };
    let relu = activation(PointwiseActivation::Relu);
    let matmul = Op::MatMul {
        activation: Activation::Identity,
    };
    let mut graph = Graph {
        inputs: vec![f32_input("x", &[3, 20])],
        outputs: vec![output("y_q")],
        nodes: vec![
            node("q0", quantize(), &["x", "s0", "z"], &["x_q"]),
            node("dq0", dequantize(1), &["x_q", "s0", "z"], &["x_f"]),
            node("dq_w1", dequantize(0), &["w1", "w1_s"], &["w1_f"]),
            node("dq_b1", dequantize(0), &["b1", "b1_s"], &["b1_f"]),
            node("gemm1", gemm, &["x_f", "w1_f", "b1_f"], &["g1"]),
            node("relu1", relu, &["g1"], &["r1"]),
            node("q1", quantize(), &["r1", "s1", "z"], &["h_q"]),
            node("dq1", dequantize(1), &["h_q", "s1", "z"], &["h_f"]),
            node("dq_w2", dequantize(1), &["w2", "w2_s", "w2_z"], &["w2_f"]),
            node("matmul2", matmul, &["h_f", "w2_f"], &["m2"]),
            node("q2", quantize(), &["m2", "s2", "z_out"], &["y_q"]),
        ],
        ..Graph::default()
    };
    let f32s = |values: Vec<f32>| tensor(&[values.len()], TensorData::F32(values));
    let scalar = |value: f32| tensor(&[], TensorData::F32(vec![value]));
    let w1_scales: Vec<f32> = (0..12).map(|n| 0.01 + 0.002 * n as f32).collect();
    let b1_scales = w1_scales.iter().map(|s| X_SCALE * s).collect();
    let w1 = (0..240).map(|v: i32| (v * 5 % 23 - 11) as i8).collect();
    let tensors = [
        ("s0", scalar(X_SCALE)),
        ("s1", scalar(H_SCALE)),
        ("s2", scalar(Y_SCALE)),
        ("z", tensor(&[], TensorData::U8(vec![128]))),
        ("z_out", tensor(&[], TensorData::I8(vec![-7]))),
        ("w1", tensor(&[12, 20], TensorData::I8(w1))),
        ("w1_s", f32s(w1_scales)),
        (
            "b1",
            tensor(
                &[12],
                TensorData::I32((0..12).map(|n| n * 37 - 200).collect()),
            ),
        ),
        ("b1_s", f32s(b1_scales)),
        ("w2", tensor(&[12, 5], TensorData::I8(w2_values()))),
        ("w2_s", f32s(W2_SCALES.to_vec())),
        (
            "w2_z",
            tensor(&[5], TensorData::I8(W2_ZERO_POINTS.to_vec())),
        ),
    ];
    graph
        .initializers
        .extend(tensors.into_iter().map(|(name, t)| (name.to_string(), t)));
    graph
}

#[test]
fn a_quantized_mlp_runs_as_two_qlinear_matmuls() {
    let mut graph = mlp();
    let report = lower_qdq_report(&mut graph).unwrap();
    assert_eq!(report.lowered, ["gemm1", "matmul2"]);
    assert!(report.kept_float.is_empty(), "{:?}", report.kept_float);
    eliminate_dead_nodes(&mut graph).unwrap();
    let ops: Vec<&str> = graph.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(ops, ["QuantizeLinear", "QLinearMatMul", "QLinearMatMul"]);
    let gemm = &graph.nodes[1];
    assert_eq!(
        gemm.op,
        Op::QLinearMatMul {
            activation: Activation::Relu
        }
    );
    let inputs: Vec<&str> = gemm.inputs.iter().flatten().map(String::as_str).collect();
    let (transposed, zero) = ("gemm1::weight_k_by_n", "gemm1::w_zero_point");
    assert_eq!(
        inputs,
        ["x_q", "s0", "z", transposed, "w1_s", zero, "s1", "z", "b1"]
    );
    // The Gemm's [N, K] weight became [K, N]: element (k, n) is w1[n, k].
    let (w1, w1_t) = (&mlp().initializers["w1"], &graph.initializers[transposed]);
    assert_eq!(w1_t.shape(), [20, 12]);
    let (w1, w1_t) = (w1.to_i64_vec("").unwrap(), w1_t.to_i64_vec("").unwrap());
    assert!((0..240).all(|i| w1_t[i] == w1[(i % 12) * 20 + i / 12]));
    let matmul = &graph.nodes[2];
    assert_eq!(matmul.input(0), Some("h_q"));
    assert_eq!(matmul.input(5), Some("w2_z"));
    graph.validate().unwrap();
}

#[test]
fn one_lowered_layer_is_within_one_output_step_of_the_float_path() {
    // The Gemm layer alone: the float path and QLinearMatMul compute the same real value up to
    // f32 rounding, so they can round to neighbouring steps at most (module docs of `matmul`).
    let mut single = mlp();
    single.nodes.truncate(7);
    single.outputs = vec![output("h_q")];
    let mut lowered = single.clone();
    assert_eq!(lower_qdq(&mut lowered).unwrap(), 1);
    for seed in 0..8 {
        assert_same_outputs(&single, &lowered, &random_inputs(&single, seed), 1.0);
    }
}

#[test]
fn the_lowered_mlp_is_within_its_derived_bound_of_the_float_path() {
    // Layer 1 may end one step of H_SCALE off in any of its 12 outputs. Through layer 2 that moves
    // column n by H_SCALE · w2_scale[n] · Σ_k |w2[k, n] − w2_zp[n]| / Y_SCALE output steps (the
    // gain), and layer 2's own rounding adds one: bound = 1 + ⌈max_n gain⌉.
    let w2 = w2_values();
    let gain = (0..5)
        .map(|n| {
            let spread: i32 = (0..12)
                .map(|k| (i32::from(w2[k * 5 + n]) - i32::from(W2_ZERO_POINTS[n])).abs())
                .sum();
            H_SCALE * W2_SCALES[n] * spread as f32 / Y_SCALE
        })
        .fold(0.0f32, f32::max);
    let bound = 1.0 + gain.ceil();
    let float = mlp();
    let mut lowered = float.clone();
    assert_eq!(lower_qdq(&mut lowered).unwrap(), 2);
    for seed in 0..8 {
        assert_same_outputs(&float, &lowered, &random_inputs(&float, seed), bound);
    }
}

/// The reason `mlp()`, changed by `edit`, gives for leaving `node` in float.
fn refusal(node: &str, edit: impl FnOnce(&mut Graph)) -> String {
    let mut graph = mlp();
    edit(&mut graph);
    let report = lower_qdq_report(&mut graph).unwrap();
    let found = report.kept_float.iter().find(|(name, _)| name == node);
    found.expect("the node stays float").1.clone()
}

#[test]
fn what_cannot_be_lowered_stays_float_with_a_reason() {
    let alpha = refusal("gemm1", |g| {
        if let Op::Gemm { alpha, .. } = &mut g.nodes[4].op {
            *alpha = 2.0;
        }
    });
    assert!(alpha.contains("alpha"), "{alpha}");
    let float_weight = refusal("matmul2", |g| {
        g.initializers.insert(
            "w2".into(),
            tensor(&[12, 5], TensorData::F32(vec![0.5; 60])),
        );
    });
    assert!(
        float_weight.contains("int8 or uint8 initializer"),
        "{float_weight}"
    );
    let bias_scale = refusal("gemm1", |g| {
        g.initializers
            .insert("b1_s".into(), tensor(&[12], TensorData::F32(vec![1.0; 12])));
    });
    assert!(bias_scale.contains("bias scale"), "{bias_scale}");
    let row_scales = refusal("matmul2", |g| {
        g.nodes[8].op = Op::DequantizeLinear { axis: 0 };
    });
    assert!(row_scales.contains("per output column"), "{row_scales}");
    let no_q = refusal("matmul2", |g| {
        g.nodes.pop();
        g.outputs = vec![output("m2")];
    });
    assert!(no_q.contains("QuantizeLinear"), "{no_q}");
}

#[test]
fn the_new_integer_ops_survive_the_kiln_headers_json() {
    // `.kiln` stores ops as serde JSON: the lowered ops and DynamicQuantizeLinear round-trip.
    for op in [
        Op::QLinearMatMul {
            activation: Activation::Relu,
        },
        Op::QLinearMatMul {
            activation: Activation::Identity,
        },
        Op::DynamicQuantizeLinear,
    ] {
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), op, "{json}");
    }
}
