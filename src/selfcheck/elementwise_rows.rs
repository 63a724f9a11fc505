//! Self-check rows for the element-wise, softmax and reduction families: a broadcast Add, the
//! Sigmoid and GELU activations as standalone ops, Softmax over the last axis and ReduceMean.
//! All are memory-bound, so throughput is bytes read and written per second.

use crate::check::{compare, SeededRng};
use crate::device::Gpu;
use crate::error::Result;
use crate::ops::elementwise::{
    binary, reference_binary, reference_unary, unary, BinaryOp, UnaryOp,
};
use crate::ops::reduce::{reduce, reference_reduce, ReduceKind};
use crate::ops::softmax::{reference_softmax, softmax};
use crate::ops::PointwiseActivation;
use crate::selfcheck::{measure, CheckRow, Throughput};
use crate::tensor::GpuTensor;

/// The NCHW-sized activation every element-wise row runs on (one million elements).
const SHAPE: [usize; 4] = [4, 64, 64, 64];
/// Rows × length of the softmax and reduction problems (a classifier's logits, batched).
const ROWS: usize = 256;
/// Length of each softmax or reduced row.
const ROW_LEN: usize = 1000;

fn label(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

fn broadcast_add_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let count: usize = SHAPE.iter().product();
    let bias_shape = [SHAPE[1], 1, 1];
    let x = rng.uniform_vec(count, -1.0, 1.0);
    let bias = rng.uniform_vec(SHAPE[1], -1.0, 1.0);
    let x_gpu = GpuTensor::upload(gpu, &SHAPE, &x)?;
    let bias_gpu = GpuTensor::upload(gpu, &bias_shape, &bias)?;
    let reference = reference_binary(BinaryOp::Add, &x, &SHAPE, &bias, &bias_shape)?;
    let run = || binary(gpu, BinaryOp::Add, &x_gpu, &bias_gpu);
    let comparison = compare(
        "add (broadcast [C,1,1])",
        &run()?.read::<f32>(gpu)?,
        &reference.values(),
        &reference.tolerances(),
    );
    let bytes = (count * 8) as f64;
    measure(
        gpu,
        label(&SHAPE),
        comparison,
        Throughput::bandwidth(bytes),
        || run().map(drop),
    )
}

fn activation_row(
    gpu: &Gpu,
    rng: &mut SeededRng,
    activation: PointwiseActivation,
) -> Result<CheckRow> {
    let count: usize = SHAPE.iter().product();
    let x = rng.uniform_vec(count, -6.0, 6.0);
    let x_gpu = GpuTensor::upload(gpu, &SHAPE, &x)?;
    let op = UnaryOp::Activation(activation);
    let reference = reference_unary(op, &x, &SHAPE);
    let run = || unary(gpu, op, &x_gpu);
    let name = format!("{} (standalone)", format!("{activation:?}").to_lowercase());
    let comparison = compare(
        &name,
        &run()?.read::<f32>(gpu)?,
        &reference.values(),
        &reference.tolerances(),
    );
    let bytes = (count * 8) as f64;
    measure(
        gpu,
        label(&SHAPE),
        comparison,
        Throughput::bandwidth(bytes),
        || run().map(drop),
    )
}

fn softmax_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let shape = [ROWS, ROW_LEN];
    let x = rng.uniform_vec(ROWS * ROW_LEN, -10.0, 10.0);
    let x_gpu = GpuTensor::upload(gpu, &shape, &x)?;
    let reference = reference_softmax(&x, &shape, -1, false)?;
    let run = || softmax(gpu, &x_gpu, -1);
    let comparison = compare(
        "softmax (last axis)",
        &run()?.read::<f32>(gpu)?,
        &reference.values(),
        &reference.tolerances(),
    );
    let bytes = (ROWS * ROW_LEN * 4 * 4) as f64;
    measure(
        gpu,
        label(&shape),
        comparison,
        Throughput::bandwidth(bytes),
        || run().map(drop),
    )
}

fn reduce_mean_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let shape = [ROWS, ROW_LEN];
    let x = rng.uniform_vec(ROWS * ROW_LEN, -1.0, 1.0);
    let x_gpu = GpuTensor::upload(gpu, &shape, &x)?;
    let reference = reference_reduce(ReduceKind::Mean, &x, &shape, &[-1], true)?;
    let run = || reduce(gpu, ReduceKind::Mean, &x_gpu, &[-1], true);
    let comparison = compare(
        "reduce mean (last axis)",
        &run()?.read::<f32>(gpu)?,
        &reference.values(),
        &reference.tolerances(),
    );
    let bytes = (ROWS * ROW_LEN * 4 + ROWS * 4) as f64;
    measure(
        gpu,
        label(&shape),
        comparison,
        Throughput::bandwidth(bytes),
        || run().map(drop),
    )
}

/// The element-wise, softmax and reduction rows.
pub(super) fn rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    Ok(vec![
        broadcast_add_row(gpu, rng)?,
        activation_row(gpu, rng, PointwiseActivation::Sigmoid)?,
        activation_row(gpu, rng, PointwiseActivation::Gelu)?,
        softmax_row(gpu, rng)?,
        reduce_mean_row(gpu, rng)?,
    ])
}
