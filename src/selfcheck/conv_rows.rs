//! Self-check rows for the convolutions: the f32 implicit GEMM on a 3×3 layer, the depthwise
//! kernel, the f16 implicit GEMM on the device's preferred path and int8 QLinearConv (exact).

use half::f16;

use crate::check::{compare, compare_exact, SeededRng};
use crate::device::Gpu;
use crate::error::Result;
use crate::ops::conv::{
    conv2d_f16, conv2d_f32, conv2d_q8, reference_conv2d, reference_conv2d_f16, reference_conv2d_q8,
    Conv2dParams, GpuQ8ConvWeights, QLinearQuant,
};
use crate::ops::matmul::f16::F16Path;
use crate::ops::matmul::int8::Dot4Path;
use crate::ops::matmul::reference::OutputPrecision;
use crate::ops::Activation;
use crate::selfcheck::{measure, CheckRow, Throughput};
use crate::tensor::{GpuTensor, Q8Weights};

/// Channels and side of the checked layers: big enough to time, small for lavapipe.
const CHANNELS: usize = 32;
const SIDE: usize = 28;
/// 3×3 kernels with padding 1 keep the spatial size.
const SAME_3X3: Conv2dParams = Conv2dParams {
    strides: [1, 1],
    pads: [1; 4],
    dilations: [1, 1],
    groups: 1,
};

/// `[1, C, SIDE, SIDE]` and the weight shape of a 3×3 conv with `groups` groups.
fn shapes(groups: usize) -> ([usize; 4], [usize; 4]) {
    (
        [1, CHANNELS, SIDE, SIDE],
        [CHANNELS, CHANNELS / groups, 3, 3],
    )
}

/// `2·MACs` of a 3×3 layer with `groups` groups.
fn operations(groups: usize) -> f64 {
    2.0 * (CHANNELS * CHANNELS / groups * 9 * SIDE * SIDE) as f64
}

fn shape_label(groups: usize) -> String {
    format!("{CHANNELS}x{SIDE}x{SIDE} 3x3 g{groups}")
}

fn f32_row(gpu: &Gpu, rng: &mut SeededRng, groups: usize, name: &str) -> Result<CheckRow> {
    let (x_shape, w_shape) = shapes(groups);
    let x = rng.uniform_vec(x_shape.iter().product(), -1.0, 1.0);
    let w = rng.uniform_vec(w_shape.iter().product(), -1.0, 1.0);
    let bias = rng.uniform_vec(CHANNELS, -1.0, 1.0);
    let params = Conv2dParams { groups, ..SAME_3X3 };
    let activation = Activation::Relu;
    let reference = reference_conv2d(&x, &x_shape, &w, &w_shape, Some(&bias), &params, activation)?;
    let x = GpuTensor::upload(gpu, &x_shape, &x)?;
    let w = GpuTensor::upload(gpu, &w_shape, &w)?;
    let bias = GpuTensor::upload(gpu, &[CHANNELS], &bias)?;
    let run = || conv2d_f32(gpu, &x, &w, Some(&bias), &params, activation);
    let comparison = compare(
        name,
        &run()?.read::<f32>(gpu)?,
        &reference.values(),
        &reference.tolerances(OutputPrecision::F32),
    );
    let work = Throughput::gflops(operations(groups));
    measure(gpu, shape_label(groups), comparison, work, || {
        run().map(drop)
    })
}

fn f16_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let (x_shape, w_shape) = shapes(1);
    let to_f16 = |values: Vec<f32>| values.into_iter().map(f16::from_f32).collect::<Vec<_>>();
    let x = to_f16(rng.uniform_vec(x_shape.iter().product(), -1.0, 1.0));
    let w = to_f16(rng.uniform_vec(w_shape.iter().product(), -1.0, 1.0));
    let activation = Activation::Silu;
    let reference = reference_conv2d_f16(&x, &x_shape, &w, &w_shape, None, &SAME_3X3, activation)?;
    let x = GpuTensor::upload(gpu, &x_shape, &x)?;
    let w = GpuTensor::upload(gpu, &w_shape, &w)?;
    let run = || conv2d_f16(gpu, &x, &w, None, &SAME_3X3, activation);
    let got: Vec<f32> = run()?
        .read::<f16>(gpu)?
        .iter()
        .map(|v| v.to_f32())
        .collect();
    let name = match F16Path::preferred(gpu) {
        F16Path::Native => "conv2d f16 native",
        F16Path::Packed => "conv2d f16 packed",
    };
    let tolerances = reference.tolerances(OutputPrecision::F16);
    let comparison = compare(name, &got, &reference.values(), &tolerances);
    let work = Throughput::gflops(operations(1));
    measure(gpu, shape_label(1), comparison, work, || run().map(drop))
}

fn int8_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let (x_shape, w_shape) = shapes(1);
    let random_i8 = |rng: &mut SeededRng, count: usize| -> Vec<i8> {
        (0..count).map(|_| rng.int_in(-128, 127) as i8).collect()
    };
    let x = random_i8(rng, x_shape.iter().product());
    let w = random_i8(rng, w_shape.iter().product());
    let scales = rng.uniform_vec(CHANNELS, 0.002, 0.004);
    let quant = QLinearQuant {
        input_scale: 0.02,
        input_zero_point: -7,
        output_scale: 2.0,
        output_zero_point: 3,
    };
    let want = reference_conv2d_q8(&x, &x_shape, &w, &w_shape, &scales, None, &quant, &SAME_3X3)?;
    let k = CHANNELS * 9;
    let weights = Q8Weights::from_parts(CHANNELS, k, &w, scales, vec![0; CHANNELS])?;
    let w = GpuQ8ConvWeights::upload(gpu, &weights, w_shape)?;
    let x = GpuTensor::upload(gpu, &x_shape, &x)?;
    let path = Dot4Path::preferred(gpu);
    let run = || conv2d_q8(gpu, &x, &w, None, &quant, &SAME_3X3, path);
    let widen = |values: &[i8]| values.iter().map(|&q| i32::from(q)).collect::<Vec<_>>();
    let got = widen(&run()?.read::<i8>(gpu)?);
    let name = match path {
        Dot4Path::Builtin => "conv2d int8 dot4 builtin",
        Dot4Path::Unpacked => "conv2d int8 dot4 unpacked",
    };
    let comparison = compare_exact(name, &got, &widen(&want));
    let work = Throughput::gops(operations(1));
    measure(gpu, shape_label(1), comparison, work, || run().map(drop))
}

/// The convolution rows.
pub(super) fn rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    Ok(vec![
        f32_row(gpu, rng, 1, "conv2d f32 implicit gemm")?,
        f32_row(gpu, rng, CHANNELS, "conv2d f32 depthwise")?,
        f16_row(gpu, rng)?,
        int8_row(gpu, rng)?,
    ])
}
