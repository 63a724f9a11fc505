//! The value-moving lowering: each op between a DQ and a Q of one quantization runs on the
//! integers (0 steps from the unlowered float path), the refusals say why, and a DQ read by float
//! nodes too stays for them. The graphs built here serve `average_tests.rs` too.

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
pub(super) const SCALE: f32 = 0.005;

pub(super) fn tensor(shape: &[usize], data: TensorData) -> HostTensor {
    HostTensor::new(shape, data).unwrap()
}

pub(super) fn i64s(values: &[i64]) -> HostTensor {
    HostTensor::from_i64(&[values.len()], values.to_vec()).unwrap()
}

pub(super) fn pool_attrs(kernel: [usize; 2], strides: [usize; 2], pads: [usize; 4]) -> PoolAttrs {
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
pub(super) fn between_qdq(
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
/// An op, its extra inputs (initializers) and its output count.
type MovingOp = (Op, Vec<(&'static str, HostTensor)>, usize);

fn moving_ops() -> Vec<MovingOp> {
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

pub(super) fn zero_points() -> [HostTensor; 2] {
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
pub(super) fn refusal(mut graph: Graph) -> String {
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
