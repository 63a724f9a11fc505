//! Hostile inputs for every op: each [`Op`] variant, under a few attribute choices, fed every
//! arity from 0 to 9 with tensors of every dtype and awkward shapes (scalars, empty, rank 5),
//! small values and NaN/inf. [`eval_node`] must return for each, never panic, and every error
//! must name the node. The samples are shared with [`super::robustness_seeds`].

use crate::check::SeededRng;
use crate::graph::eval::element::tensor_from_f64;
use crate::graph::eval::eval_node;
use crate::graph::{
    AutoPad, CompareOp, ConvAttrs, ConvTransposeAttrs, Node, Op, PoolAttrs, ResizeAttrs,
};
use crate::ops::elementwise::{BinaryOp, UnaryOp, VariadicOp};
use crate::ops::layout::PadMode;
use crate::ops::normalization::LrnAttrs;
use crate::ops::quantized_elementwise::QLinearBinaryOp;
use crate::ops::reduce::ReduceKind;
use crate::ops::resize::{CoordinateMode, NearestMode, ResizeMode};
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::{DType, HostTensor};
use std::collections::BTreeSet;

/// The index of `op`'s variant; the exhaustive match makes a new variant a compile error here
/// until it has a sample.
pub(crate) fn variant(op: &Op) -> usize {
    match op {
        Op::Unary(_) => 0,
        Op::Binary(_) => 1,
        Op::Variadic(_) => 2,
        Op::Clip => 3,
        Op::Where => 4,
        Op::Compare(_) => 5,
        Op::Not => 6,
        Op::Cast { .. } => 7,
        Op::MatMul { .. } => 8,
        Op::Gemm { .. } => 9,
        Op::Conv(_) => 10,
        Op::ConvTranspose(_) => 11,
        Op::QLinearConv(_) => 12,
        Op::MatMulInteger => 13,
        Op::QuantizeLinear { .. } => 14,
        Op::DequantizeLinear { .. } => 15,
        Op::MaxPool(_) => 16,
        Op::AveragePool(_) => 17,
        Op::GlobalAveragePool => 18,
        Op::GlobalMaxPool => 19,
        Op::BatchNormalization { .. } => 20,
        Op::LayerNormalization { .. } => 21,
        Op::Softmax { .. } => 22,
        Op::LogSoftmax { .. } => 23,
        Op::Reduce { .. } => 24,
        Op::ArgMax { .. } => 25,
        Op::Resize(_) => 26,
        Op::Concat { .. } => 27,
        Op::Split { .. } => 28,
        Op::Slice => 29,
        Op::Transpose { .. } => 30,
        Op::Pad { .. } => 31,
        Op::Reshape { .. } => 32,
        Op::Flatten { .. } => 33,
        Op::Squeeze => 34,
        Op::Unsqueeze => 35,
        Op::Expand => 36,
        Op::Gather { .. } => 37,
        Op::Shape { .. } => 38,
        Op::ConstantOfShape { .. } => 39,
        Op::Range => 40,
        Op::Identity => 41,
        Op::Dropout => 42,
        Op::Lrn(_) => 43,
        Op::QLinearAveragePool(_) => 44,
        Op::QLinearGlobalAveragePool => 45,
        Op::QLinearBinary { .. } => 46,
        Op::QLinearConcat { .. } => 47,
        Op::LookupTable { .. } => 48,
        Op::DynamicQuantizeLinear => 49,
        Op::QLinearMatMul { .. } => 50,
    }
}

pub(crate) const VARIANTS: usize = 51;

fn conv_attrs(strides: Vec<usize>, auto_pad: AutoPad) -> ConvAttrs {
    ConvAttrs {
        strides,
        auto_pad,
        activation: Activation::Relu,
        ..ConvAttrs::default()
    }
}

fn pool_attrs(kernel: Vec<usize>, auto_pad: AutoPad) -> PoolAttrs {
    PoolAttrs {
        pads: vec![],
        strides: vec![],
        dilations: vec![],
        ceil_mode: true,
        count_include_pad: true,
        auto_pad,
        kernel_shape: kernel,
    }
}

pub(crate) fn sample_ops() -> Vec<Op> {
    let mut ops: Vec<Op> = UnaryOp::ELEMENTARY
        .iter()
        .map(|&op| Op::Unary(op))
        .collect();
    ops.extend(
        PointwiseActivation::ALL
            .iter()
            .map(|&a| Op::Unary(UnaryOp::Activation(a))),
    );
    ops.extend(BinaryOp::ALL.map(Op::Binary));
    ops.extend(VariadicOp::ALL.map(Op::Variadic));
    ops.extend(DType::ALL.iter().map(|&to| Op::Cast { to }));
    ops.extend([CompareOp::Equal, CompareOp::Less, CompareOp::GreaterOrEqual].map(Op::Compare));
    let transpose = |output_shape: Vec<usize>, auto_pad| {
        Op::ConvTranspose(ConvTransposeAttrs {
            conv: conv_attrs(vec![], auto_pad),
            output_padding: vec![],
            output_shape,
        })
    };
    ops.extend([
        Op::Clip,
        Op::Where,
        Op::Not,
        Op::MatMul {
            activation: Activation::Sigmoid,
        },
        Op::Gemm {
            alpha: 0.5,
            beta: 2.0,
            trans_a: true,
            trans_b: false,
            activation: Activation::Identity,
        },
        Op::Conv(conv_attrs(vec![], AutoPad::NotSet)),
        Op::Conv(conv_attrs(vec![2, 2], AutoPad::SameLower)),
        Op::Conv(conv_attrs(vec![3], AutoPad::Valid)),
        transpose(vec![], AutoPad::NotSet),
        transpose(vec![], AutoPad::SameUpper),
        transpose(vec![5, 4], AutoPad::NotSet),
        Op::QLinearConv(ConvAttrs {
            activation: Activation::Identity,
            ..conv_attrs(vec![], AutoPad::NotSet)
        }),
        Op::MatMulInteger,
        Op::DynamicQuantizeLinear,
        Op::QLinearMatMul {
            activation: Activation::Relu,
        },
        Op::QLinearBinary {
            op: QLinearBinaryOp::Add,
        },
        Op::QLinearBinary {
            op: QLinearBinaryOp::Mul,
        },
        Op::QLinearConcat { axis: 1 },
        Op::LookupTable { x_dtype: DType::I8 },
        Op::LookupTable { x_dtype: DType::U8 },
        Op::QuantizeLinear {
            axis: 1,
            saturate: true,
        },
        Op::DequantizeLinear { axis: -1 },
        Op::MaxPool(pool_attrs(vec![2, 2], AutoPad::NotSet)),
        Op::MaxPool(pool_attrs(vec![2, 1, 2], AutoPad::SameUpper)),
        Op::AveragePool(pool_attrs(vec![3], AutoPad::NotSet)),
        Op::AveragePool(pool_attrs(vec![2, 2], AutoPad::SameLower)),
        Op::GlobalAveragePool,
        Op::GlobalMaxPool,
        Op::QLinearAveragePool(pool_attrs(vec![2, 2], AutoPad::NotSet)),
        Op::QLinearAveragePool(PoolAttrs {
            strides: vec![1, 2],
            pads: vec![0, 1, 1, 0],
            dilations: vec![1, 1],
            ..pool_attrs(vec![3, 2], AutoPad::NotSet)
        }),
        Op::QLinearGlobalAveragePool,
        Op::BatchNormalization { epsilon: 1e-5 },
        Op::LayerNormalization {
            axis: -1,
            epsilon: 1e-5,
        },
        Op::Lrn(LrnAttrs {
            size: 2,
            alpha: 1e-4,
            beta: 0.75,
            bias: 1.0,
        }),
        Op::Softmax {
            axis: 1,
            coerce_2d: true,
        },
        Op::LogSoftmax {
            axis: -1,
            coerce_2d: false,
        },
        Op::Reduce {
            kind: ReduceKind::Mean,
            keepdims: false,
            noop_with_empty_axes: true,
        },
        Op::Reduce {
            kind: ReduceKind::Max,
            keepdims: true,
            noop_with_empty_axes: false,
        },
        Op::ArgMax {
            axis: -1,
            keepdims: false,
            select_last_index: true,
        },
        Op::Resize(ResizeAttrs {
            mode: ResizeMode::Linear,
            coordinates: CoordinateMode::AlignCorners,
            axes: vec![],
        }),
        Op::Resize(ResizeAttrs {
            mode: ResizeMode::Nearest(NearestMode::Ceil),
            coordinates: CoordinateMode::TfHalfPixelForNn,
            axes: vec![-1, 0],
        }),
        Op::Concat { axis: -1 },
        Op::Split {
            axis: 0,
            num_outputs: Some(2),
        },
        Op::Split {
            axis: -1,
            num_outputs: None,
        },
        Op::Slice,
        Op::Transpose { perm: None },
        Op::Transpose {
            perm: Some(vec![1, 0]),
        },
        Op::Pad {
            mode: PadMode::Reflect,
        },
        Op::Pad {
            mode: PadMode::Constant(7.0),
        },
        Op::Pad {
            mode: PadMode::Wrap,
        },
        Op::Reshape { allowzero: true },
        Op::Flatten { axis: -2 },
        Op::Squeeze,
        Op::Unsqueeze,
        Op::Expand,
        Op::Gather { axis: -1 },
        Op::Shape {
            start: -1,
            end: Some(7),
        },
        Op::ConstantOfShape {
            value: HostTensor::from_i64(&[1], vec![3]).unwrap(),
        },
        Op::Range,
        Op::Identity,
        Op::Dropout,
    ]);
    ops
}

/// Every dtype in awkward shapes, with values small enough that any of them read as a shape,
/// pads or sizes stays small: floats from a few steps (NaN and ±inf included), integers in
/// [−2, 2].
pub(crate) fn sample_tensors(rng: &mut SeededRng) -> Vec<HostTensor> {
    const FLOATS: [f64; 10] = [
        -2.0,
        -1.5,
        -0.5,
        0.0,
        0.5,
        1.0,
        2.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let shapes: [&[usize]; 8] = [
        &[],
        &[0],
        &[1],
        &[3],
        &[2, 3],
        &[1, 2, 3, 3],
        &[2, 1, 2, 2, 2],
        &[1, 0, 2, 2],
    ];
    let mut tensors = Vec::new();
    for dtype in DType::ALL {
        for shape in shapes {
            let count: usize = shape.iter().product();
            let values: Vec<f64> = (0..count)
                .map(|_| match dtype {
                    DType::F32 | DType::F16 => FLOATS[rng.int_in(0, 9) as usize],
                    _ => f64::from(rng.int_in(-2, 2)),
                })
                .collect();
            tensors.push(tensor_from_f64(dtype, shape, values).unwrap());
        }
    }
    tensors
}

/// Inputs for one trial: independent picks (some absent), one tensor everywhere, or a data
/// tensor followed by small integer (shape-like) tensors.
fn pick_inputs<'t>(
    rng: &mut SeededRng,
    tensors: &'t [HostTensor],
    arity: usize,
    trial: usize,
) -> Vec<Option<&'t HostTensor>> {
    let any = |rng: &mut SeededRng| &tensors[rng.int_in(0, tensors.len() as i32 - 1) as usize];
    let shared = any(rng);
    (0..arity)
        .map(|index| match trial % 3 {
            0 if rng.int_in(0, 9) == 0 => None,
            0 => Some(any(rng)),
            1 => Some(shared),
            _ if index == 0 => Some(shared),
            _ => {
                let small: Vec<&HostTensor> = (tensors.iter())
                    .filter(|t| matches!(t.dtype(), DType::I64 | DType::I32) && t.len() <= 3)
                    .collect();
                Some(small[rng.int_in(0, small.len() as i32 - 1) as usize])
            }
        })
        .collect()
}

#[test]
fn every_op_survives_hostile_inputs() {
    let mut rng = SeededRng::new(2024);
    let tensors = sample_tensors(&mut rng);
    let ops = sample_ops();
    let covered: BTreeSet<usize> = ops.iter().map(variant).collect();
    assert_eq!(covered.len(), VARIANTS, "every Op variant has a sample");
    let (mut successes, mut failures) = (0, 0);
    for op in ops {
        for outputs in 1..=2 {
            let node = Node {
                name: "fuzz".into(),
                op: op.clone(),
                inputs: vec![],
                outputs: (0..outputs).map(|i| format!("y{i}")).collect(),
            };
            for arity in 0..=9 {
                for trial in 0..12 {
                    let inputs = pick_inputs(&mut rng, &tensors, arity, trial);
                    match eval_node(&node, &inputs) {
                        Ok(_) => successes += 1,
                        Err(error) => {
                            failures += 1;
                            let message = error.to_string();
                            assert!(message.contains("node 'fuzz'"), "{message}");
                        }
                    }
                }
            }
        }
    }
    // Both outcomes occur: the trials reach the ops' arithmetic, not only the arity checks.
    assert!(
        successes > 1000 && failures > 1000,
        "{successes} ok, {failures} errors"
    );
}
