//! Element-wise ops against their f64 references: every unary op and activation, every binary op
//! over broadcasting corner cases (scalars, [3,1]×[1,4], rank 5 and 6, zero-size axes), ONNX's
//! NaN/inf semantics, variadic Min/Max, Where and Clip.

use kiln::check::{compare, SeededRng};
use kiln::ops::elementwise::{
    self, binary, reference_activation, reference_binary, reference_select, reference_unary,
    reference_variadic, unary, BinaryOp, ElementwiseReference, UnaryOp,
};
use kiln::ops::{Activation, PointwiseActivation};
use kiln::tensor::GpuTensor;
use kiln::Error;

use crate::common::gpu;

/// The special values every op is checked on, crossed with each other for the binary ops.
const SPECIALS: [f32; 13] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    1.0,
    -1.0,
    2.0,
    -2.0,
    0.5,
    3.0,
    -3.5,
    1.0e-30,
];

fn check(label: &str, got: &GpuTensor, reference: &ElementwiseReference) {
    let gpu = gpu().expect("checked by caller");
    assert_eq!(got.shape(), reference.shape, "{label}: shape");
    compare(
        label,
        &got.read::<f32>(gpu).unwrap(),
        &reference.values(),
        &reference.tolerances(),
    )
    .assert_passed();
}

fn all_unary_ops() -> Vec<UnaryOp> {
    let mut ops = UnaryOp::ELEMENTARY.to_vec();
    ops.extend(PointwiseActivation::ALL.map(UnaryOp::Activation));
    ops
}

#[test]
fn unary_ops_match_reference_at_awkward_sizes() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(11);
    for (index, op) in all_unary_ops().into_iter().enumerate() {
        for size in [1, 255, 1000] {
            let shape = [size];
            let x = rng.uniform_vec(size, -9.0, 9.0);
            let x_gpu = GpuTensor::upload(gpu, &shape, &x).unwrap();
            let label = format!("{op:?} [{size}] (case {index})");
            check(
                &label,
                &unary(gpu, op, &x_gpu).unwrap(),
                &reference_unary(op, &x, &shape),
            );
        }
    }
}

#[test]
fn unary_special_values_follow_onnx() {
    let Some(gpu) = gpu() else { return };
    let mut x = SPECIALS.to_vec();
    x.extend([100.0, -200.0, 88.0, -90.0]);
    let x_gpu = GpuTensor::upload(gpu, &[x.len()], &x).unwrap();
    for op in all_unary_ops() {
        let reference = reference_unary(op, &x, &[x.len()]);
        check(
            &format!("{op:?} special values"),
            &unary(gpu, op, &x_gpu).unwrap(),
            &reference,
        );
    }
}

#[test]
fn every_epilogue_activation_launches_standalone() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(12);
    let x = rng.uniform_vec(257, -9.0, 9.0);
    let x_gpu = GpuTensor::upload(gpu, &[x.len()], &x).unwrap();
    for kind in Activation::ALL {
        let got = elementwise::activation(gpu, kind, &x_gpu).unwrap();
        check(
            &format!("{kind:?} standalone [257]"),
            &got,
            &reference_activation(kind, &x, &[x.len()]),
        );
    }
}

#[test]
fn clip_with_optional_bounds() {
    let Some(gpu) = gpu() else { return };
    let x = [
        f32::NEG_INFINITY,
        -3.0,
        -0.5,
        0.25,
        4.0,
        f32::INFINITY,
        f32::NAN,
    ];
    let x_gpu = GpuTensor::upload(gpu, &[x.len()], &x).unwrap();
    for (min, max) in [
        (None, None),
        (Some(-1.0), None),
        (None, Some(1.0)),
        (Some(0.0), Some(6.0)),
    ] {
        let bounds = Activation::Clip {
            min: min.unwrap_or(f32::MIN),
            max: max.unwrap_or(f32::MAX),
        };
        let reference = reference_activation(bounds, &x, &[x.len()]);
        let got = elementwise::clip(gpu, &x_gpu, min, max).unwrap();
        check(&format!("Clip {min:?} {max:?}"), &got, &reference);
    }
}

/// Operand shapes: numpy's corner cases, awkward sizes, rank 5 and 6, zero-size axes.
const BROADCASTS: [(&[usize], &[usize]); 12] = [
    (&[], &[2, 3]),
    (&[3, 1], &[1, 4]),
    (&[1], &[5]),
    (&[7], &[7]),
    (&[257], &[1]),
    (&[4, 250], &[4, 250]),
    (&[2, 1, 3, 1, 5], &[1, 4, 1, 2, 5]),
    (&[2, 1, 2, 1, 2, 1], &[1, 3, 1, 3, 1, 3]),
    (&[3, 1, 4, 1, 2, 2], &[2, 1, 1, 1, 1]),
    (&[0, 3], &[1, 3]),
    (&[2, 0], &[2, 1]),
    (&[], &[]),
];

#[test]
fn binary_ops_broadcast_like_numpy() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(12);
    for op in BinaryOp::ALL {
        for (a_shape, b_shape) in BROADCASTS {
            let a_len = a_shape.iter().product();
            let b_len = b_shape.iter().product();
            // Pow on positive bases (negative ones are covered by the special values).
            let low = if op == BinaryOp::Pow { 0.0 } else { -4.0 };
            let a = rng.uniform_vec(a_len, low, 4.0);
            let b = rng.uniform_vec(b_len, -3.0, 3.0);
            let a_gpu = GpuTensor::upload(gpu, a_shape, &a).unwrap();
            let b_gpu = GpuTensor::upload(gpu, b_shape, &b).unwrap();
            let reference = reference_binary(op, &a, a_shape, &b, b_shape).unwrap();
            let got = binary(gpu, op, &a_gpu, &b_gpu).unwrap();
            check(
                &format!("{op:?} {a_shape:?} with {b_shape:?}"),
                &got,
                &reference,
            );
        }
    }
}

#[test]
fn binary_special_values_follow_onnx() {
    let Some(gpu) = gpu() else { return };
    let n = SPECIALS.len();
    let mut a = SPECIALS.to_vec();
    a.extend([-8.0, 4.0, 0.75, 1.5]);
    let mut b = SPECIALS.to_vec();
    b.extend([0.5, -0.5, 2.5, 7.0]);
    let a_shape = [a.len(), 1];
    let b_shape = [1, b.len()];
    let a_gpu = GpuTensor::upload(gpu, &a_shape, &a).unwrap();
    let b_gpu = GpuTensor::upload(gpu, &b_shape, &b).unwrap();
    for op in BinaryOp::ALL {
        let reference = reference_binary(op, &a, &a_shape, &b, &b_shape).unwrap();
        let got = binary(gpu, op, &a_gpu, &b_gpu).unwrap();
        check(
            &format!("{op:?} special values ({n}+4 squared)"),
            &got,
            &reference,
        );
    }
}

#[test]
fn variadic_min_and_max() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(13);
    let shapes: [&[usize]; 3] = [&[3, 1, 5], &[4, 1], &[]];
    let mut values: Vec<Vec<f32>> = shapes
        .iter()
        .map(|shape| rng.uniform_vec(shape.iter().product(), -2.0, 2.0))
        .collect();
    values[0][2] = f32::NAN;
    let tensors: Vec<GpuTensor> = shapes
        .iter()
        .zip(&values)
        .map(|(shape, data)| GpuTensor::upload(gpu, shape, data).unwrap())
        .collect();
    let refs: Vec<&GpuTensor> = tensors.iter().collect();
    let inputs: Vec<(&[f32], &[usize])> = values.iter().map(|v| &v[..]).zip(shapes).collect();
    for (op, run) in [
        (BinaryOp::Min, elementwise::min as fn(_, &[&GpuTensor]) -> _),
        (BinaryOp::Max, elementwise::max),
    ] {
        let reference = reference_variadic(op, &inputs).unwrap();
        check(
            &format!("variadic {op:?}"),
            &run(gpu, &refs).unwrap(),
            &reference,
        );
        let single = reference_variadic(op, &inputs[..1]).unwrap();
        check(
            &format!("single-input {op:?}"),
            &run(gpu, &refs[..1]).unwrap(),
            &single,
        );
    }
    assert!(matches!(
        elementwise::min(gpu, &[]),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn where_broadcasts_all_three_inputs() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(14);
    let cases: [[&[usize]; 3]; 5] = [
        [&[2, 3], &[2, 3], &[2, 3]],
        [&[3, 1], &[1, 4], &[]],
        [&[], &[5], &[1]],
        [
            &[2, 1, 3, 1, 2, 1],
            &[1, 2, 1, 3, 1, 1],
            &[7, 1, 1, 1, 1, 1, 2],
        ],
        [&[0], &[1], &[1]],
    ];
    for [cond_shape, x_shape, y_shape] in cases {
        let condition: Vec<u8> = (0..cond_shape.iter().product::<usize>())
            .map(|_| (rng.next_u64() % 2) as u8 * (1 + (rng.next_u64() % 3) as u8))
            .collect();
        let mut x = rng.uniform_vec(x_shape.iter().product(), -1.0, 1.0);
        if let Some(first) = x.first_mut() {
            *first = f32::NAN;
        }
        let y = rng.uniform_vec(y_shape.iter().product(), -1.0, 1.0);
        let reference =
            reference_select((&condition, cond_shape), (&x, x_shape), (&y, y_shape)).unwrap();
        let got = elementwise::select(
            gpu,
            &GpuTensor::upload(gpu, cond_shape, &condition).unwrap(),
            &GpuTensor::upload(gpu, x_shape, &x).unwrap(),
            &GpuTensor::upload(gpu, y_shape, &y).unwrap(),
        )
        .unwrap();
        check(
            &format!("Where {cond_shape:?} {x_shape:?} {y_shape:?}"),
            &got,
            &reference,
        );
    }
}

#[test]
fn mismatched_shapes_and_dtypes_are_errors() {
    let Some(gpu) = gpu() else { return };
    let a = GpuTensor::upload(gpu, &[2, 3], &[1.0f32; 6]).unwrap();
    let b = GpuTensor::upload(gpu, &[4, 3], &[1.0f32; 12]).unwrap();
    let result = binary(gpu, BinaryOp::Add, &a, &b);
    assert!(matches!(result, Err(Error::ShapeMismatch { .. })));
    let result = elementwise::max(gpu, &[&a, &a, &b]);
    assert!(matches!(result, Err(Error::ShapeMismatch { .. })));
    let bytes = GpuTensor::upload(gpu, &[2, 3], &[1u8; 6]).unwrap();
    let result = elementwise::select(gpu, &a, &a, &a);
    assert!(matches!(result, Err(Error::DTypeMismatch { .. })));
    let result = unary(gpu, UnaryOp::Exp, &bytes);
    assert!(matches!(result, Err(Error::DTypeMismatch { .. })));
}
