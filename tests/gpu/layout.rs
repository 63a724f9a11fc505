//! Layout ops against their index-arithmetic references, for every dtype, bit for bit: odd shapes
//! (3×5×7 f16 and i8, so rows start mid-word), negative axes and steps, every pad mode, concat and
//! split along each axis, rank 6, and the argument errors.

use half::f16;
use kiln::check::SeededRng;
use kiln::device::Gpu;
use kiln::ops::layout::{
    broadcast, concat, flatten, pad, reference_concat, reference_pad, reference_slice,
    reference_transpose, reshape, resolve_pads, resolve_slice, slice, split, squeeze, transpose,
    unsqueeze, PadMode,
};
use kiln::tensor::{Element, GpuTensor};
use kiln::Error;

use crate::common::gpu;

/// Seeded values of every element type, from random 32-bit patterns (NaN payloads included for
/// the floats: layout ops move bits, they never look at them).
trait Sample: Element + PartialEq + std::fmt::Debug {
    fn sample(rng: &mut SeededRng, count: usize) -> Vec<Self>;
    fn from_f64(value: f64) -> Self;
}

impl Sample for f32 {
    fn sample(rng: &mut SeededRng, count: usize) -> Vec<Self> {
        (0..count)
            .map(|_| f32::from_bits(rng.next_u64() as u32))
            .collect()
    }
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}
impl Sample for f16 {
    fn sample(rng: &mut SeededRng, count: usize) -> Vec<Self> {
        (0..count)
            .map(|_| f16::from_bits(rng.next_u64() as u16))
            .collect()
    }
    fn from_f64(value: f64) -> Self {
        f16::from_f64(value)
    }
}
impl Sample for i32 {
    fn sample(rng: &mut SeededRng, count: usize) -> Vec<Self> {
        (0..count).map(|_| rng.next_u64() as i32).collect()
    }
    fn from_f64(value: f64) -> Self {
        value as i32
    }
}
impl Sample for i8 {
    fn sample(rng: &mut SeededRng, count: usize) -> Vec<Self> {
        (0..count).map(|_| rng.next_u64() as i8).collect()
    }
    fn from_f64(value: f64) -> Self {
        value as i8
    }
}
impl Sample for u8 {
    fn sample(rng: &mut SeededRng, count: usize) -> Vec<Self> {
        (0..count).map(|_| rng.next_u64() as u8).collect()
    }
    fn from_f64(value: f64) -> Self {
        value as u8
    }
}

/// Bit patterns, so NaNs compare equal to themselves.
fn bits<T: Element>(values: &[T]) -> Vec<u8> {
    bytemuck::cast_slice(values).to_vec()
}

fn upload<T: Sample>(gpu: &Gpu, shape: &[usize], seed: u64) -> (Vec<T>, GpuTensor) {
    let data = T::sample(&mut SeededRng::new(seed), shape.iter().product());
    let tensor = GpuTensor::upload(gpu, shape, &data).unwrap();
    (data, tensor)
}

fn assert_same<T: Sample>(label: &str, got: &GpuTensor, want: &[T], gpu: &Gpu) {
    let values = got.read::<T>(gpu).unwrap();
    assert_eq!(
        bits(&values),
        bits(want),
        "{label}: {} {:?}",
        T::DTYPE,
        got.shape()
    );
}

fn transposes<T: Sample>(gpu: &Gpu) {
    let cases: [(&[usize], Option<&[usize]>); 5] = [
        (&[3, 5, 7], Some(&[2, 0, 1])),
        (&[3, 5, 7], None),
        (&[7, 9], Some(&[1, 0])),
        (&[2, 3, 1, 5, 2, 3], Some(&[5, 3, 1, 0, 4, 2])),
        (&[4, 1, 3], Some(&[0, 1, 2])),
    ];
    for (index, (shape, perm)) in cases.into_iter().enumerate() {
        let (data, tensor) = upload::<T>(gpu, shape, index as u64);
        let got = transpose(gpu, &tensor, perm).unwrap();
        let perm_vec: Vec<usize> =
            perm.map_or_else(|| (0..shape.len()).rev().collect(), <[usize]>::to_vec);
        let want = reference_transpose(&data, shape, &perm_vec);
        assert_same(&format!("transpose {shape:?} {perm:?}"), &got, &want, gpu);
    }
}

fn slices<T: Sample>(gpu: &Gpu) {
    type SliceCase<'a> = (
        &'a [usize],
        &'a [i64],
        &'a [i64],
        Option<&'a [i64]>,
        Option<&'a [i64]>,
    );
    let cases: [SliceCase; 5] = [
        (&[3, 5, 7], &[1, 1], &[3, 6], Some(&[0, 2]), None),
        (
            &[3, 5, 7],
            &[-1, 100],
            &[i64::MIN, -8],
            Some(&[-1, 1]),
            Some(&[-2, -2]),
        ),
        (&[3, 5, 7], &[0, 0, 0], &[3, 5, 7], None, Some(&[2, 3, 3])),
        (
            &[2, 3, 2, 3, 2, 5],
            &[4, 1],
            &[0, 3],
            Some(&[5, 1]),
            Some(&[-1, 1]),
        ),
        (&[9], &[5], &[2], None, None),
    ];
    for (index, (shape, starts, ends, axes, steps)) in cases.into_iter().enumerate() {
        let (data, tensor) = upload::<T>(gpu, shape, 10 + index as u64);
        let got = slice(gpu, &tensor, starts, ends, axes, steps).unwrap();
        let resolved = resolve_slice(shape, starts, ends, axes, steps).unwrap();
        let want = reference_slice(&data, shape, &resolved);
        assert_same(
            &format!("slice {shape:?} {starts:?} {ends:?}"),
            &got,
            &want,
            gpu,
        );
    }
}

fn concats_and_splits<T: Sample>(gpu: &Gpu) {
    let cases: [(&[&[usize]], i64); 4] = [
        (&[&[3, 5, 7], &[3, 2, 7], &[3, 1, 7]], 1),
        (&[&[3, 5, 3], &[3, 5, 1], &[3, 5, 0], &[3, 5, 5]], -1),
        (&[&[1, 5, 7], &[2, 5, 7]], 0),
        (&[&[2, 1, 2, 3, 1, 3], &[2, 1, 2, 1, 1, 3]], 3),
    ];
    for (index, (shapes, axis)) in cases.into_iter().enumerate() {
        let inputs: Vec<(Vec<T>, GpuTensor)> = shapes
            .iter()
            .enumerate()
            .map(|(i, shape)| upload::<T>(gpu, shape, 100 + 10 * index as u64 + i as u64))
            .collect();
        let tensors: Vec<&GpuTensor> = inputs.iter().map(|(_, tensor)| tensor).collect();
        let got = concat(gpu, &tensors, axis).unwrap();
        let normalized = axis.rem_euclid(shapes[0].len() as i64) as usize;
        let pairs: Vec<(&[T], &[usize])> = inputs
            .iter()
            .zip(shapes)
            .map(|((data, _), shape)| (&data[..], *shape))
            .collect();
        let want = reference_concat(&pairs, normalized);
        assert_same(&format!("concat {shapes:?} axis {axis}"), &got, &want, gpu);
        let sizes: Vec<usize> = shapes.iter().map(|shape| shape[normalized]).collect();
        let pieces = split(gpu, &got, axis, &sizes).unwrap();
        for ((data, _), piece) in inputs.iter().zip(&pieces) {
            assert_same(&format!("split {shapes:?} axis {axis}"), piece, data, gpu);
        }
    }
}

fn pads<T: Sample>(gpu: &Gpu) {
    let shape = [3, 5, 7];
    let (data, tensor) = upload::<T>(gpu, &shape, 200);
    let cases: [(&[i64], PadMode); 6] = [
        (&[1, 0, 3, 0, 2, 1], PadMode::Constant(-2.5)),
        (&[0, 2, 1, 2, 0, 3], PadMode::Constant(7.0)),
        (&[2, 4, 6, 1, 4, 5], PadMode::Reflect),
        (&[1, 3, 2, 0, 9, 3], PadMode::Edge),
        (&[0, -2, 1, -1, 2, -3], PadMode::Edge),
        (&[3, 6, 9, 1, 0, 2], PadMode::Wrap),
    ];
    for (pad_values, mode) in cases {
        let got = pad(gpu, &tensor, pad_values, mode).unwrap();
        let resolved = resolve_pads(&shape, pad_values, mode).unwrap();
        assert_eq!(got.shape(), resolved.out_shape);
        let fill = T::from_f64(match mode {
            PadMode::Constant(value) => value,
            _ => 0.0,
        });
        let want = reference_pad(&data, &shape, &resolved.pairs, mode, fill);
        assert_same(&format!("pad {pad_values:?} {mode:?}"), &got, &want, gpu);
    }
}

/// Broadcast by index arithmetic: output index → source index with broadcast axes pinned to 0.
fn reference_broadcast<T: Copy>(data: &[T], shape: &[usize], target: &[usize]) -> Vec<T> {
    let mut aligned = vec![1; target.len() - shape.len()];
    aligned.extend_from_slice(shape);
    let count: usize = target.iter().product();
    (0..count)
        .map(|flat| {
            let (mut rest, mut source, mut stride) = (flat, 0, 1);
            for (&extent, &source_extent) in target.iter().zip(&aligned).rev() {
                let position = rest % extent;
                rest /= extent;
                source += if source_extent == 1 {
                    0
                } else {
                    position * stride
                };
                stride *= source_extent;
            }
            data[source]
        })
        .collect()
}

fn broadcasts<T: Sample>(gpu: &Gpu) {
    let cases: [(&[usize], &[usize]); 4] = [
        (&[3, 1, 5], &[3, 7, 5]),
        (&[1, 1], &[2, 3, 5]),
        (&[5], &[3, 5]),
        (&[2, 1, 3, 1], &[2, 3, 3, 7]),
    ];
    for (index, (shape, target)) in cases.into_iter().enumerate() {
        let (data, tensor) = upload::<T>(gpu, shape, 40 + index as u64);
        let got = broadcast(gpu, &tensor, target).unwrap();
        let want = reference_broadcast(&data, shape, target);
        assert_same(
            &format!("broadcast {shape:?} to {target:?}"),
            &got,
            &want,
            gpu,
        );
    }
    let (_, tensor) = upload::<T>(gpu, &[2, 3], 0);
    assert!(broadcast(gpu, &tensor, &[4, 3, 3]).is_err());
    assert!(broadcast(gpu, &tensor, &[3]).is_err());
}

fn every_op<T: Sample>(gpu: &Gpu) {
    transposes::<T>(gpu);
    broadcasts::<T>(gpu);
    slices::<T>(gpu);
    concats_and_splits::<T>(gpu);
    pads::<T>(gpu);
}

#[test]
fn layout_ops_match_reference_for_every_dtype() {
    let Some(gpu) = gpu() else { return };
    every_op::<f32>(gpu);
    every_op::<f16>(gpu);
    every_op::<i32>(gpu);
    every_op::<i8>(gpu);
    every_op::<u8>(gpu);
}

#[test]
fn metadata_ops_keep_the_buffer() {
    let Some(gpu) = gpu() else { return };
    let (data, tensor) = upload::<i8>(gpu, &[3, 5, 7], 300);
    let tensor = reshape(tensor, &[0, -1], false).unwrap();
    assert_eq!(tensor.shape(), [3, 35]);
    let tensor = unsqueeze(tensor, &[0, -1]).unwrap();
    assert_eq!(tensor.shape(), [1, 3, 35, 1]);
    let tensor = squeeze(tensor, None).unwrap();
    assert_eq!(tensor.shape(), [3, 35]);
    let tensor = flatten(tensor, 0).unwrap();
    assert_eq!(tensor.shape(), [1, 105]);
    assert_same("reshaped", &tensor, &data, gpu);
    assert!(matches!(
        reshape(tensor, &[4, -1], false),
        Err(Error::ShapeMismatch { .. })
    ));
    let (_, tensor) = upload::<f32>(gpu, &[2, 3], 301);
    assert!(matches!(
        tensor.reshape(&[5]),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn bad_arguments_are_errors() {
    let Some(gpu) = gpu() else { return };
    let (_, tensor) = upload::<f16>(gpu, &[3, 5, 7], 400);
    let (_, other) = upload::<f16>(gpu, &[3, 4, 6], 401);
    let (_, ints) = upload::<i32>(gpu, &[3, 5, 7], 402);
    let invalid =
        |result: kiln::Result<GpuTensor>| matches!(result, Err(Error::InvalidArgument { .. }));
    let mismatch =
        |result: kiln::Result<GpuTensor>| matches!(result, Err(Error::ShapeMismatch { .. }));
    assert!(invalid(transpose(gpu, &tensor, Some(&[0, 0, 1]))));
    assert!(invalid(transpose(gpu, &tensor, Some(&[0, 1]))));
    assert!(invalid(concat(gpu, &[&tensor, &other], 3)));
    assert!(mismatch(concat(gpu, &[&tensor, &other], 1)));
    assert!(matches!(
        concat(gpu, &[&tensor, &ints], 0),
        Err(Error::DTypeMismatch { .. })
    ));
    assert!(invalid(concat(gpu, &[], 0)));
    assert!(invalid(slice(gpu, &tensor, &[0], &[1], Some(&[3]), None)));
    assert!(invalid(slice(gpu, &tensor, &[0], &[1], None, Some(&[0]))));
    assert!(invalid(pad(
        gpu,
        &tensor,
        &[0, 0, 7, 0, 0, 0],
        PadMode::Reflect
    )));
    assert!(invalid(pad(gpu, &tensor, &[1, 1], PadMode::Edge)));
    assert!(matches!(
        split(gpu, &tensor, 1, &[2, 2]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        split(gpu, &tensor, -4, &[3]),
        Err(Error::InvalidArgument { .. })
    ));
    let (_, rank9) = upload::<u8>(gpu, &[1; 9], 403);
    assert!(invalid(transpose(gpu, &rank9, None)));
}
