//! Self-check rows for the quantized matmuls: int8 W8A8 on both dot-product paths (exact i32
//! accumulators) and int4 weight-only, tiled and GEMV.

use crate::check::{compare, compare_exact, SeededRng};
use crate::device::Gpu;
use crate::error::Result;
use crate::ops::matmul::int4::{matmul_q4_with, reference_matmul_q4, GpuQ4Weights, Q4Kernel};
use crate::ops::matmul::int8::{
    matmul_q8_i32, reference_q8_i32, Dot4Path, GpuQ8Activations, GpuQ8Weights,
};
use crate::ops::matmul::reference::OutputPrecision;
use crate::ops::matmul::MatmulDims;
use crate::ops::Activation;
use crate::selfcheck::matmul_rows::{GEMV_K, GEMV_N, SIDE};
use crate::selfcheck::{matmul_shape, measure, CheckRow, Throughput};
use crate::tensor::{GpuTensor, Q4GroupSize, Q4Weights, Q8Activations, Q8Scheme, Q8Weights};

fn int8_rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    let a = Q8Activations::calibrate(
        &rng.uniform_vec(SIDE * SIDE, -1.0, 1.0),
        SIDE,
        SIDE,
        Q8Scheme::Asymmetric,
    )?;
    let w = Q8Weights::quantize(
        &rng.uniform_vec(SIDE * SIDE, -1.0, 1.0),
        SIDE,
        SIDE,
        Q8Scheme::Asymmetric,
    )?;
    let a_gpu = GpuQ8Activations::upload(gpu, &a, 1, SIDE)?;
    let w_gpu = GpuQ8Weights::upload(gpu, &w)?;
    let want = reference_q8_i32(&a, &w, 1, SIDE);
    let dims = MatmulDims::infer("selfcheck", &[SIDE, SIDE], &[SIDE, SIDE], true)?;
    let mut rows = Vec::new();
    for (name, path) in [
        ("matmul int8 dot4I8Packed", Dot4Path::Builtin),
        ("matmul int8 unpacked", Dot4Path::Unpacked),
    ] {
        if path.check_supported(gpu).is_err() {
            continue;
        }
        let run = || matmul_q8_i32(gpu, &a_gpu, &w_gpu, path);
        let comparison = compare_exact(name, &run()?.read::<i32>(gpu)?, &want);
        rows.push(measure(
            gpu,
            matmul_shape(&dims),
            comparison,
            Throughput::gops(dims.flops()),
            || run().map(drop),
        )?);
    }
    Ok(rows)
}

fn int4_row(
    gpu: &Gpu,
    rng: &mut SeededRng,
    name: &str,
    m: usize,
    n: usize,
    k: usize,
    kernel: Q4Kernel,
) -> Result<CheckRow> {
    let a = rng.uniform_vec(m * k, -1.0, 1.0);
    let weights = Q4Weights::quantize(
        &rng.uniform_vec(n * k, -1.0, 1.0),
        n,
        k,
        Q4GroupSize::G128,
        false,
    )?;
    let bias = rng.uniform_vec(n, -1.0, 1.0);
    let a_gpu = GpuTensor::upload(gpu, &[m, k], &a)?;
    let w_gpu = GpuQ4Weights::upload(gpu, &weights)?;
    let bias_gpu = GpuTensor::upload(gpu, &[n], &bias)?;
    let activation = Activation::Gelu;
    let reference = reference_matmul_q4(&a, &[m, k], &weights, Some(&bias), activation)?;
    let run = || {
        matmul_q4_with(
            gpu,
            &a_gpu,
            &w_gpu,
            Some(&bias_gpu),
            activation,
            kernel,
            None,
        )
    };
    let comparison = compare(
        name,
        &run()?.read::<f32>(gpu)?,
        &reference.values(),
        &reference.tolerances(OutputPrecision::F32),
    );
    let dims = reference.dims;
    let throughput = if m == 1 {
        let weight_bytes = (weights.packed.len() * 4
            + weights.scales.len() * 2
            + weights.zero_points.len()) as f64;
        Throughput::bandwidth(weight_bytes)
    } else {
        Throughput::gflops(dims.flops())
    };
    measure(gpu, matmul_shape(&dims), comparison, throughput, || {
        run().map(drop)
    })
}

/// The quantized matmul rows.
pub(super) fn rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    let mut rows = int8_rows(gpu, rng)?;
    rows.push(int4_row(
        gpu,
        rng,
        "matmul int4 tiled (f32 act)",
        SIDE,
        SIDE,
        SIDE,
        Q4Kernel::Tiled,
    )?);
    rows.push(int4_row(
        gpu,
        rng,
        "gemv int4 (f32 act)",
        1,
        GEMV_N,
        GEMV_K,
        Q4Kernel::Gemv,
    )?);
    Ok(rows)
}
