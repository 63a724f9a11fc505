//! Layout properties, bit for bit against the index-arithmetic references: Transpose with a
//! random permutation (or none = reversed) and Concat along a random (possibly negative) axis of
//! random parts, for f32 (NaN payloads and -0.0 included), f16 and i8.

use half::f16;
use proptest::prelude::*;

use kiln::ops::layout::{concat, reference_concat, reference_transpose, transpose};
use kiln::tensor::{Element, GpuTensor};

use super::{check, dim, ok, values};
use crate::common::gpu;

/// The element types layout ops are checked on, made from f32 samples.
const DTYPES: [&str; 3] = ["f32", "f16", "i8"];

fn same<T: Element>(label: &str, got: &GpuTensor, want: &[T]) -> Result<(), TestCaseError> {
    let gpu = gpu().expect("checked by caller");
    let values = ok("read", got.read::<T>(gpu))?;
    let (got, want): (&[u8], &[u8]) = (bytemuck::cast_slice(&values), bytemuck::cast_slice(want));
    prop_assert!(
        got == want,
        "{} differs from the reference ({:?})",
        label,
        T::DTYPE
    );
    Ok(())
}

fn transpose_as<T: Element>(
    data: &[T],
    shape: &[usize],
    perm: Option<&[usize]>,
) -> Result<(), TestCaseError> {
    let gpu = gpu().expect("checked by caller");
    let tensor = ok("upload", GpuTensor::upload(gpu, shape, data))?;
    let got = ok("transpose", transpose(gpu, &tensor, perm))?;
    let perm_vec: Vec<usize> =
        perm.map_or_else(|| (0..shape.len()).rev().collect(), <[usize]>::to_vec);
    same(
        &format!("transpose {shape:?} {perm:?}"),
        &got,
        &reference_transpose(data, shape, &perm_vec),
    )
}

fn concat_as<T: Element>(parts: &[(Vec<T>, Vec<usize>)], axis: i64) -> Result<(), TestCaseError> {
    let gpu = gpu().expect("checked by caller");
    let tensors = parts
        .iter()
        .map(|(data, shape)| ok("upload", GpuTensor::upload(gpu, shape, data)))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&GpuTensor> = tensors.iter().collect();
    let got = ok("concat", concat(gpu, &refs, axis))?;
    let normalized = axis.rem_euclid(parts[0].1.len() as i64) as usize;
    let pairs: Vec<(&[T], &[usize])> = parts.iter().map(|(d, s)| (&d[..], &s[..])).collect();
    let shapes: Vec<&Vec<usize>> = parts.iter().map(|(_, shape)| shape).collect();
    same(
        &format!("concat {shapes:?} axis {axis}"),
        &got,
        &reference_concat(&pairs, normalized),
    )
}

fn cast<T>(values: &[f32], convert: impl Fn(f32) -> T) -> Vec<T> {
    values.iter().map(|&v| convert(v)).collect()
}

/// Each part's data converted to `T`, with its shape.
fn parts_as<T>(
    data: &[Vec<f32>],
    shapes: &[Vec<usize>],
    convert: impl Fn(f32) -> T + Copy,
) -> Vec<(Vec<T>, Vec<usize>)> {
    data.iter()
        .zip(shapes)
        .map(|(d, s)| (cast(d, convert), s.clone()))
        .collect()
}

#[test]
fn transpose_matches_reference_on_random_permutations() {
    if gpu().is_none() {
        return;
    }
    let strategy = proptest::collection::vec(dim(9), 1..=5).prop_flat_map(|shape| {
        let count = shape.iter().product();
        let perm = Just((0..shape.len()).collect::<Vec<_>>()).prop_shuffle();
        (
            Just(shape),
            proptest::option::weighted(0.8, perm),
            0..DTYPES.len(),
            values(count, 100.0),
        )
    });
    check(
        "transpose",
        strategy,
        |(shape, perm, dtype, x)| match DTYPES[dtype] {
            "f32" => transpose_as(&x, &shape, perm.as_deref()),
            "f16" => transpose_as(&cast(&x, f16::from_f32), &shape, perm.as_deref()),
            _ => transpose_as(&cast(&x, |v| v as i8), &shape, perm.as_deref()),
        },
    );
}

#[test]
fn concat_matches_reference_on_random_parts() {
    if gpu().is_none() {
        return;
    }
    let strategy = (
        proptest::collection::vec(dim(7), 1..=4),
        1usize..=4,
        0..DTYPES.len(),
    )
        .prop_flat_map(|(shape, parts, dtype)| {
            let rank = shape.len();
            (
                Just(shape),
                0..rank,
                any::<bool>(),
                proptest::collection::vec(0usize..=5, parts),
                Just(dtype),
            )
        })
        .prop_flat_map(|(shape, axis, negative, sizes, dtype)| {
            let part_shapes: Vec<Vec<usize>> = sizes
                .iter()
                .map(|&size| {
                    let mut part = shape.clone();
                    part[axis] = size;
                    part
                })
                .collect();
            let axis = axis as i64 - if negative { shape.len() as i64 } else { 0 };
            let data: Vec<_> = part_shapes
                .iter()
                .map(|s| values(s.iter().product(), 100.0))
                .collect();
            (Just(part_shapes), Just(axis), Just(dtype), data)
        });
    check(
        "concat",
        strategy,
        |(shapes, axis, dtype, data)| match DTYPES[dtype] {
            "f32" => concat_as(&parts_as(&data, &shapes, |v| v), axis),
            "f16" => concat_as(&parts_as(&data, &shapes, f16::from_f32), axis),
            _ => concat_as(&parts_as(&data, &shapes, |v| v as i8), axis),
        },
    );
}
