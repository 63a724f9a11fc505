//! Self-check rows for pooling, Resize and the layout gather: MaxPool 3×3 stride 2 and AveragePool
//! (exact and within their tolerance), bilinear Resize 2×, and Transpose (bit-exact). All are
//! memory-bound, so throughput is bytes read and written per second.

use crate::check::{compare, SeededRng};
use crate::device::Gpu;
use crate::error::Result;
use crate::ops::layout::{reference_transpose, transpose};
use crate::ops::pooling::{
    average_pool2d, average_pool_tolerance, max_pool2d, reference_pool2d, Pool2dOptions, PoolKind,
};
use crate::ops::resize::{reference_resize, resize, ResizeMode, ResizeOptions, LINEAR_TOLERANCE};
use crate::selfcheck::{measure, CheckRow, Throughput};
use crate::tensor::GpuTensor;

/// The NCHW feature map every row runs on: a mid-network CNN activation, small for lavapipe.
const SHAPE: [usize; 4] = [1, 32, 112, 112];

fn label(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

fn bytes(input: &GpuTensor, output: &GpuTensor) -> f64 {
    ((input.len() + output.len()) * 4) as f64
}

fn pool_rows(gpu: &Gpu, input: &[f32], tensor: &GpuTensor) -> Result<Vec<CheckRow>> {
    let max_options = Pool2dOptions {
        pads: [1, 1, 1, 1],
        ..Pool2dOptions::square(3, 2)
    };
    let average_options = Pool2dOptions {
        count_include_pad: true,
        ..Pool2dOptions::square(2, 2)
    };
    let mut rows = Vec::new();
    for (name, kind, options) in [
        ("maxpool f32 3x3 s2", PoolKind::Max, max_options),
        ("avgpool f32 2x2 s2", PoolKind::Average, average_options),
    ] {
        let run = || match kind {
            PoolKind::Max => max_pool2d(gpu, tensor, &options),
            PoolKind::Average => average_pool2d(gpu, tensor, &options),
        };
        let output = run()?;
        let want = reference_pool2d(kind, input, SHAPE, &options);
        let tolerance = match kind {
            PoolKind::Max => 0.0,
            PoolKind::Average => average_pool_tolerance(options.kernel[0] * options.kernel[1], 1.0),
        };
        let comparison = compare(
            name,
            &output.read(gpu)?,
            &want,
            &vec![tolerance; want.len()],
        );
        rows.push(measure(
            gpu,
            label(&SHAPE),
            comparison,
            Throughput::bandwidth(bytes(tensor, &output)),
            || run().map(drop),
        )?);
    }
    Ok(rows)
}

fn resize_row(gpu: &Gpu, input: &[f32], tensor: &GpuTensor) -> Result<CheckRow> {
    let options = ResizeOptions {
        mode: ResizeMode::Linear,
        ..ResizeOptions::scales(2.0, 2.0)
    };
    let run = || resize(gpu, tensor, &options);
    let output = run()?;
    let (_, want) = reference_resize(input, SHAPE, &options)?;
    let name = "resize f32 linear 2x";
    let comparison = compare(
        name,
        &output.read(gpu)?,
        &want,
        &vec![LINEAR_TOLERANCE; want.len()],
    );
    measure(
        gpu,
        label(&SHAPE),
        comparison,
        Throughput::bandwidth(bytes(tensor, &output)),
        || run().map(drop),
    )
}

fn transpose_row(gpu: &Gpu, input: &[f32], tensor: &GpuTensor) -> Result<CheckRow> {
    let perm = [0, 2, 3, 1];
    let run = || transpose(gpu, tensor, Some(&perm));
    let output = run()?;
    let want = reference_transpose(input, &SHAPE, &perm);
    let name = "transpose f32 nchw->nhwc";
    let comparison = compare(name, &output.read(gpu)?, &want, &vec![0.0; want.len()]);
    measure(
        gpu,
        label(&SHAPE),
        comparison,
        Throughput::bandwidth(bytes(tensor, &output)),
        || run().map(drop),
    )
}

/// The pooling, resize and layout rows.
pub(super) fn rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    let input = rng.uniform_vec(SHAPE.iter().product(), -1.0, 1.0);
    let tensor = GpuTensor::upload(gpu, &SHAPE, &input)?;
    let mut rows = pool_rows(gpu, &input, &tensor)?;
    rows.push(resize_row(gpu, &input, &tensor)?);
    rows.push(transpose_row(gpu, &input, &tensor)?);
    Ok(rows)
}
