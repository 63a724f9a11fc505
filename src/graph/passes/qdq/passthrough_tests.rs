//! The value-moving and average-pool lowerings: each op between a DQ and a Q runs on the integers
//! (0 steps from the unlowered float path for the moves, at most 1 for the averages), the
//! refusals say why, a DQ read by float nodes too stays for them, and after the passes a mixed
//! graph dequantizes each value once ([`border_conversions`]).

use super::*;
use crate::graph::passes::eliminate_dead_nodes;
use crate::graph::passes::testing::random_inputs;
use crate::graph::passes::testing::{activation, assert_same_outputs, f32_input, node, output};
use crate::graph::{AutoPad, PoolAttrs, ResizeAttrs};
use crate::ops::layout::PadMode;
use crate::ops::resize::{CoordinateMode, NearestMode, ResizeMode};
use crate::ops::PointwiseActivation;
use crate::tensor::TensorData;

/// The input scale: inputs in [-1, 1) span ±200 steps, so uint8 with zero point 128 and int8
/// with −3 saturate at both ends.
const SCALE: f32 = 0.005;

fn tensor(shape: &[usize], data: TensorData) -> HostTensor {
    HostTensor::new(shape, data).unwrap()
}

fn i64s(values: &[i64]) -> HostTensor {
    HostTensor::from_i64(&[values.len()], values.to_vec()).unwrap()
}

fn pool_attrs(kernel: [usize; 2], strides: [usize; 2], pads: [usize; 4]) -> PoolAttrs {
    PoolAttrs {
        kernel_shape: kernel.to_vec(),
        strides: strides.to_vec(),
        pads: pads.to_vec(),
        dilations: vec![1, 1],
        ceil_mode: false,
        count_include_pad: false,
        auto_pad: AutoPad::NotSet,
    }
}

/// `x [1, 3, 5, 6] → Q(s, z) → DQ → op(x_f, extra inputs…) → Q(s_out, z) per output`, outputs
/// quantized; `zero` is the zero point (its dtype is the quantized type).
fn between_qdq(
    op: Op,
    extra: &[(&str, HostTensor)],
    outputs: usize,
    zero: &HostTensor,
    s_out: f32,
) -> Graph {
    let quantize = || Op::QuantizeLinear {
        axis: 1,
        saturate: true,
    };
    let mut inputs = vec!["x_f"];
    inputs.extend(extra.iter().map(|(name, _)| *name));
    let names: Vec<String> = (0..outputs).map(|i| format!("y{i}")).collect();
    let quantized: Vec<String> = (0..outputs).map(|i| format!("y{i}_q")).collect();
    let mut nodes = vec![
        node("q_in", quantize(), &["x", "s", "z"], &["x_q"]),
        node(
            "dq_in",
            Op::DequantizeLinear { axis: 1 },
            &["x_q", "s", "z"],
            &["x_f"],
        ),
        node(
            "op",
            op,
            &inputs,
            &names.iter().map(String::as_str).collect::<Vec<_>>(),
        ),
    ];
    for (name, q) in names.iter().zip(&quantized) {
        nodes.push(node(
            &format!("q_{name}"),
            quantize(),
            &[name, "s_out", "z"],
            &[q],
        ));
    }
    let mut graph = Graph {
        inputs: vec![f32_input("x", &[1, 3, 5, 6])],
        outputs: quantized.iter().map(|name| output(name)).collect(),
        nodes,
        ..Graph::default()
    };
    let scalar = |value: f32| tensor(&[], TensorData::F32(vec![value]));
    graph.initializers.insert("s".into(), scalar(SCALE));
    graph.initializers.insert("s_out".into(), scalar(s_out));
    graph.initializers.insert("z".into(), zero.clone());
    for (name, value) in extra {
        graph.initializers.insert(name.to_string(), value.clone());
    }
    graph
}

/// Every value-moving op, with its extra inputs and output count.
fn moving_ops() -> Vec<(Op, Vec<(&'static str, HostTensor)>, usize)> {
    let nearest = |coordinates| {
        Op::Resize(ResizeAttrs {
            mode: ResizeMode::Nearest(NearestMode::RoundPreferCeil),
            coordinates,
            axes: vec![],
        })
    };
    let scales = HostTensor::from_f32(&[4], vec![1.0, 1.0, 1.7, 0.6]).unwrap();
    let pads = i64s(&[0, 0, 1, 2, 0, 1, 0, 1]);
    let fill = tensor(&[], TensorData::F32(vec![0.37]));
    vec![
        (
            Op::MaxPool(pool_attrs([3, 2], [2, 1], [1, 0, 1, 1])),
            vec![],
            1,
        ),
        (Op::GlobalMaxPool, vec![], 1),
        (
            Op::Reshape { allowzero: false },
            vec![("shape", i64s(&[3, -1]))],
            1,
        ),
        (Op::Flatten { axis: 2 }, vec![], 1),
        (Op::Unsqueeze, vec![("axes", i64s(&[0]))], 1),
        (
            Op::Transpose {
                perm: Some(vec![0, 3, 1, 2]),
            },
            vec![],
            1,
        ),
        (
            Op::Slice,
            vec![
                ("starts", i64s(&[1, 4])),
                ("ends", i64s(&[3, 0])),
                ("axes", i64s(&[1, 3])),
                ("steps", i64s(&[1, -2])),
            ],
            1,
        ),
        (
            Op::Split {
                axis: 3,
                num_outputs: Some(2),
            },
            vec![],
            2,
        ),
        (
            nearest(CoordinateMode::HalfPixel),
            vec![
                ("roi", tensor(&[0], TensorData::F32(vec![]))),
                ("scales", scales.clone()),
            ],
            1,
        ),
        (
            nearest(CoordinateMode::AlignCorners),
            vec![
                ("roi", tensor(&[0], TensorData::F32(vec![]))),
                ("scales", scales),
            ],
            1,
        ),
        (
            Op::Pad {
                mode: PadMode::Constant(0.0),
            },
            vec![("pads", pads.clone())],
            1,
        ),
        (
            Op::Pad {
                mode: PadMode::Constant(0.0),
            },
            vec![("pads", pads.clone()), ("fill", fill)],
            1,
        ),
        (
            Op::Pad {
                mode: PadMode::Constant(-3.0),
            },
            vec![("pads", pads.clone())],
            1,
        ),
        (
            Op::Pad {
                mode: PadMode::Reflect,
            },
            vec![("pads", pads)],
            1,
        ),
        (Op::Squeeze, vec![("squeeze_axes", i64s(&[0]))], 1),
        (Op::Identity, vec![], 1),
        (Op::Dropout, vec![], 1),
    ]
}

fn zero_points() -> [HostTensor; 2] {
    [
        tensor(&[], TensorData::U8(vec![128])),
        tensor(&[], TensorData::I8(vec![-3])),
    ]
}

#[test]
fn every_value_moving_op_between_equal_quantizations_runs_on_the_integers_exactly() {
    for zero in zero_points() {
        for (op, extra, outputs) in moving_ops() {
            let graph = between_qdq(op.clone(), &extra, outputs, &zero, SCALE);
            let mut lowered = graph.clone();
            let report = lower_qdq_report(&mut lowered).unwrap();
            assert_eq!(report.lowered, ["op"], "{op:?}: {report:?}");
            eliminate_dead_nodes(&mut lowered).unwrap();
            let ops: Vec<&str> = lowered.nodes.iter().map(|n| n.op.name()).collect();
            assert_eq!(ops, ["QuantizeLinear", op.name()], "{op:?}");
            assert_eq!(lowered.nodes[1].input(0), Some("x_q"));
            lowered.validate().unwrap();
            // Quantized outputs: 0 steps means equal integers.
            assert_same_outputs(&graph, &lowered, &random_inputs(&graph, 5), 0.0);
        }
    }
}

/// The reason the lowering gives for leaving "op" of `graph` in float.
fn refusal(mut graph: Graph) -> String {
    let report = lower_qdq_report(&mut graph).unwrap();
    assert!(report.lowered.is_empty(), "{report:?}");
    let (name, reason) = report.kept_float.first().cloned().expect("a refusal");
    assert_eq!(name, "op");
    reason
}

#[test]
fn what_only_looks_like_a_move_stays_float_with_a_reason() {
    let [zero, _] = zero_points();
    let reshape = || Op::Reshape { allowzero: false };
    let shape = [("shape", i64s(&[3, -1]))];
    let rescaled = refusal(between_qdq(reshape(), &shape, 1, &zero, 2.0 * SCALE));
    assert!(rescaled.contains("differ"), "{rescaled}");
    let linear = Op::Resize(ResizeAttrs {
        mode: ResizeMode::Linear,
        coordinates: CoordinateMode::HalfPixel,
        axes: vec![],
    });
    let scales = HostTensor::from_f32(&[4], vec![1.0, 1.0, 2.0, 2.0]).unwrap();
    let empty = tensor(&[0], TensorData::F32(vec![]));
    let interpolates = refusal(between_qdq(
        linear,
        &[("roi", empty), ("scales", scales)],
        1,
        &zero,
        SCALE,
    ));
    assert!(interpolates.contains("interpolates"), "{interpolates}");
    let mut float_reader = between_qdq(
        Op::Split {
            axis: 3,
            num_outputs: Some(2),
        },
        &[],
        2,
        &zero,
        SCALE,
    );
    float_reader.outputs.push(output("y1"));
    let read = refusal(float_reader);
    assert!(read.contains("exactly one QuantizeLinear"), "{read}");
    let mut runtime_fill = between_qdq(
        Op::Pad {
            mode: PadMode::Constant(0.0),
        },
        &[("pads", i64s(&[0; 8]))],
        1,
        &zero,
        SCALE,
    );
    runtime_fill.nodes[2].inputs.push(Some("x_f".into()));
    let fill = refusal(runtime_fill);
    assert!(fill.contains("constant_value"), "{fill}");
    let mut per_axis = between_qdq(reshape(), &shape, 1, &zero, SCALE);
    per_axis
        .initializers
        .insert("s".into(), tensor(&[3], TensorData::F32(vec![SCALE; 3])));
    per_axis
        .initializers
        .insert("z".into(), tensor(&[3], TensorData::U8(vec![128; 3])));
    assert!(refusal(per_axis).contains("per-tensor"));
}

#[test]
fn a_dequantized_value_read_by_float_nodes_too_keeps_its_dequantize() {
    let [zero, _] = zero_points();
    let mut graph = between_qdq(Op::Transpose { perm: None }, &[], 1, &zero, SCALE);
    graph.nodes.push(node(
        "sigmoid",
        activation(PointwiseActivation::Sigmoid),
        &["x_f"],
        &["sig"],
    ));
    graph.outputs.push(output("sig"));
    let mut lowered = graph.clone();
    assert_eq!(lower_qdq_report(&mut lowered).unwrap().lowered, ["op"]);
    eliminate_dead_nodes(&mut lowered).unwrap();
    let ops: Vec<&str> = lowered.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(
        ops,
        ["QuantizeLinear", "DequantizeLinear", "Transpose", "Sigmoid"]
    );
    assert_eq!(lowered.nodes[3].input(0), Some("x_f"));
    assert!(border_conversions(&lowered).is_empty());
    assert_same_outputs(&graph, &lowered, &random_inputs(&graph, 9), 0.0);
}

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
