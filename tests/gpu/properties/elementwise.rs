//! Element-wise properties: every unary op and activation on random lengths, every binary op on
//! random numpy-broadcast pairs, with NaN, ±inf and -0.0 mixed into the data.

use proptest::prelude::*;

use kiln::check::compare;
use kiln::ops::elementwise::{binary, reference_binary, reference_unary, unary, BinaryOp, UnaryOp};
use kiln::ops::PointwiseActivation;
use kiln::tensor::GpuTensor;

use super::{check, dim, ok, passed, values};
use crate::common::gpu;

fn unary_ops() -> Vec<UnaryOp> {
    let mut ops = UnaryOp::ELEMENTARY.to_vec();
    ops.extend(PointwiseActivation::ALL.map(UnaryOp::Activation));
    ops
}

/// An output shape of rank 0 to 4 and, per operand, a suffix of it with some dims set to 1.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    proptest::collection::vec(dim(9), 0..=4).prop_flat_map(|out| {
        let rank = out.len();
        let operand = move |out: Vec<usize>| {
            (0..=rank, proptest::collection::vec(any::<bool>(), rank)).prop_map(
                move |(keep, ones)| {
                    let start = rank - keep;
                    (start..rank)
                        .map(|axis| if ones[axis] { 1 } else { out[axis] })
                        .collect::<Vec<usize>>()
                },
            )
        };
        (operand(out.clone()), operand(out))
    })
}

#[test]
fn unary_ops_match_reference_on_random_data() {
    let Some(gpu) = gpu() else { return };
    let ops = unary_ops();
    let strategy =
        (0..ops.len(), 1usize..600).prop_flat_map(|(op, len)| (Just(op), values(len, 9.0)));
    check("unary", strategy, |(op, x)| {
        let op = unary_ops()[op];
        let shape = [x.len()];
        let x_gpu = ok("upload", GpuTensor::upload(gpu, &shape, &x))?;
        let got = ok("unary", unary(gpu, op, &x_gpu))?;
        let reference = reference_unary(op, &x, &shape);
        prop_assert_eq!(got.shape(), &reference.shape[..]);
        let got = ok("read", got.read::<f32>(gpu))?;
        let label = format!("{op:?} [{}]", x.len());
        passed(compare(
            &label,
            &got,
            &reference.values(),
            &reference.tolerances(),
        ))
    });
}

#[test]
fn binary_ops_match_reference_on_random_broadcasts() {
    let Some(gpu) = gpu() else { return };
    let strategy = (0..BinaryOp::ALL.len(), broadcast_pair()).prop_flat_map(|(op, (a, b))| {
        let a_len = a.iter().product();
        let b_len = b.iter().product();
        (
            Just(op),
            Just(a),
            Just(b),
            values(a_len, 4.0),
            values(b_len, 3.0),
        )
    });
    check("binary", strategy, |(op, a_shape, b_shape, a, b)| {
        let op = BinaryOp::ALL[op];
        let a_gpu = ok("upload a", GpuTensor::upload(gpu, &a_shape, &a))?;
        let b_gpu = ok("upload b", GpuTensor::upload(gpu, &b_shape, &b))?;
        let got = ok("binary", binary(gpu, op, &a_gpu, &b_gpu))?;
        let reference = ok(
            "reference",
            reference_binary(op, &a, &a_shape, &b, &b_shape),
        )?;
        prop_assert_eq!(got.shape(), &reference.shape[..]);
        let got = ok("read", got.read::<f32>(gpu))?;
        let label = format!("{op:?} {a_shape:?} with {b_shape:?}");
        passed(compare(
            &label,
            &got,
            &reference.values(),
            &reference.tolerances(),
        ))
    });
}
