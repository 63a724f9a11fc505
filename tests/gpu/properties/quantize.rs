//! QuantizeLinear / DequantizeLinear properties: random shapes, per-tensor or per-axis scales on
//! a random axis, i8 and u8 with zero points across the whole range (the saturating ends often),
//! data with NaN, ±inf, -0.0 and values far outside the range. Quantized values exact except ±1
//! where the quotient is near a .5 boundary (`quotient_near_tie`), dequantized values within
//! `dequantize_tolerances`: the same allowances as the fixed-case tests.

use proptest::prelude::*;

use kiln::check::compare;
use kiln::ops::quantize::{
    dequantize_linear, dequantize_tolerances, quantize_linear, quotient_near_tie,
    reference_dequantize_linear, reference_quantize_linear, QdqAttributes, QdqLayout,
};
use kiln::tensor::{DType, GpuTensor};

use super::{check, dim, ok, passed, values};
use crate::common::gpu;

/// x's shape, the scale's shape, the attributes, whether u8, and per-scale zero points.
type Layout = (Vec<usize>, Vec<usize>, QdqAttributes, bool);

fn layouts() -> impl Strategy<Value = Layout> {
    (
        proptest::collection::vec(dim(40), 1..=3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(shape, per_axis, unsigned)| {
            let rank = shape.len();
            (0..rank).prop_map(move |axis| {
                let scale_shape = if per_axis { vec![shape[axis]] } else { vec![] };
                let attributes = QdqAttributes {
                    axis: axis as i64,
                    block_size: 0,
                };
                (shape.clone(), scale_shape, attributes, unsigned)
            })
        })
}

fn zero_points(unsigned: bool, count: usize) -> impl Strategy<Value = Vec<i32>> {
    let (low, high) = if unsigned { (0, 255) } else { (-128, 127) };
    let value = prop_oneof![1 => Just(low), 1 => Just(high), 2 => low..=high];
    proptest::collection::vec(value, count)
}

type Problem = (Layout, Vec<f32>, Vec<f32>, Option<Vec<i32>>);

fn problems() -> impl Strategy<Value = Problem> {
    layouts().prop_flat_map(|layout| {
        let count = layout.0.iter().product();
        let scales: usize = layout.1.iter().product();
        let scale = proptest::collection::vec(0.01f32..0.1, scales);
        let zero = proptest::option::of(zero_points(layout.3, scales));
        (Just(layout), values(count, 20.0), scale, zero)
    })
}

fn upload_ints(shape: &[usize], values: &[i32], unsigned: bool) -> kiln::Result<GpuTensor> {
    let gpu = gpu().expect("checked by caller");
    if unsigned {
        let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
        GpuTensor::upload(gpu, shape, &bytes)
    } else {
        let bytes: Vec<i8> = values.iter().map(|&v| v as i8).collect();
        GpuTensor::upload(gpu, shape, &bytes)
    }
}

fn read_ints(tensor: &GpuTensor, unsigned: bool) -> kiln::Result<Vec<i32>> {
    let gpu = gpu().expect("checked by caller");
    Ok(if unsigned {
        tensor.read::<u8>(gpu)?.into_iter().map(i32::from).collect()
    } else {
        tensor.read::<i8>(gpu)?.into_iter().map(i32::from).collect()
    })
}

#[test]
fn quantize_and_dequantize_match_reference_on_random_layouts() {
    let Some(gpu) = gpu() else { return };
    check(
        "qdq",
        problems(),
        |((shape, scale_shape, attributes, unsigned), x, scale, zero)| {
            let dtype = if unsigned { DType::U8 } else { DType::I8 };
            let x_gpu = ok("upload x", GpuTensor::upload(gpu, &shape, &x))?;
            let scale_gpu = ok("upload scale", GpuTensor::upload(gpu, &scale_shape, &scale))?;
            let zero_gpu = match &zero {
                Some(zero) => Some(ok(
                    "upload zero",
                    upload_ints(&scale_shape, zero, unsigned),
                )?),
                None => None,
            };
            let zero_ref = zero.as_deref();
            let q = quantize_linear(
                gpu,
                &x_gpu,
                &scale_gpu,
                zero_gpu.as_ref(),
                &attributes,
                Some(dtype),
            );
            let got = ok("read q", read_ints(&ok("quantize", q)?, unsigned))?;
            let want = reference_quantize_linear(
                &x,
                &shape,
                &scale,
                &scale_shape,
                zero_ref,
                dtype,
                &attributes,
            );
            let want = ok("reference", want)?;
            let layout = ok(
                "layout",
                QdqLayout::resolve("test", &shape, &scale_shape, None, &attributes),
            )?;
            let near_tie = |i: usize| quotient_near_tie(x[i], scale[layout.param_index(i)]);
            let tolerances: Vec<f32> = (0..x.len())
                .map(|i| if near_tie(i) { 1.0 } else { 0.0 })
                .collect();
            let as_f32 = |values: &[i32]| values.iter().map(|&v| v as f32).collect::<Vec<_>>();
            let label = format!("quantize {dtype} {shape:?} scale {scale_shape:?} {attributes:?}");
            passed(compare(&label, &as_f32(&got), &as_f32(&want), &tolerances))?;
            let q_gpu = ok("upload q", upload_ints(&shape, &want, unsigned))?;
            let back = dequantize_linear(gpu, &q_gpu, &scale_gpu, zero_gpu.as_ref(), &attributes);
            let back = ok("read", ok("dequantize", back)?.read::<f32>(gpu))?;
            let exact = reference_dequantize_linear(
                &want,
                &shape,
                &scale,
                &scale_shape,
                zero_ref,
                &attributes,
            );
            let exact = ok("reference", exact)?;
            let exact_f32: Vec<f32> = exact.iter().map(|&v| v as f32).collect();
            let label =
                format!("dequantize {dtype} {shape:?} scale {scale_shape:?} {attributes:?}");
            passed(compare(
                &label,
                &back,
                &exact_f32,
                &dequantize_tolerances(&exact, dtype),
            ))
        },
    );
}
