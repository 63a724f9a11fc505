//! Self-check rows for the dense float matmuls: f32 (vec4 and scalar loads), f16 (native and
//! packed), and the dense GEMV.

use half::f16;

use crate::check::{compare, SeededRng};
use crate::device::Gpu;
use crate::error::Result;
use crate::ops::matmul::f16::{matmul_f16_with_path, reference_matmul_f16, F16Path};
use crate::ops::matmul::f32::{matmul_f32, matmul_f32_with_path, F32LoadPath};
use crate::ops::matmul::reference::OutputPrecision;
use crate::ops::matmul::{reference_matmul, MatmulDims, MatmulOptions};
use crate::ops::Activation;
use crate::selfcheck::{matmul_shape, measure, CheckRow, Throughput};
use crate::tensor::GpuTensor;

/// The square problem every tiled kernel is checked on: big enough to time, small for lavapipe.
pub(super) const SIDE: usize = 256;
/// The GEMV problem: one row times an `[N, K]` weight.
pub(super) const GEMV_N: usize = 2048;
/// K of the GEMV problem.
pub(super) const GEMV_K: usize = 2048;

fn f32_rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    let a = rng.uniform_vec(SIDE * SIDE, -1.0, 1.0);
    let b = rng.uniform_vec(SIDE * SIDE, -1.0, 1.0);
    let bias = rng.uniform_vec(SIDE, -1.0, 1.0);
    let a_gpu = GpuTensor::upload(gpu, &[SIDE, SIDE], &a)?;
    let b_gpu = GpuTensor::upload(gpu, &[SIDE, SIDE], &b)?;
    let bias_gpu = GpuTensor::upload(gpu, &[SIDE], &bias)?;
    let options = MatmulOptions {
        b_transposed: false,
        activation: Activation::Relu,
    };
    let dims = MatmulDims::infer("selfcheck", &[SIDE, SIDE], &[SIDE, SIDE], false)?;
    let reference = reference_matmul(&a, &b, &dims, Some(&bias), options.activation);
    let tolerances = reference.tolerances(OutputPrecision::F32);
    let mut rows = Vec::new();
    for (name, path) in [
        ("matmul f32 vec4", F32LoadPath::Vec4),
        ("matmul f32 scalar", F32LoadPath::Scalar),
    ] {
        let run = || matmul_f32_with_path(gpu, &a_gpu, &b_gpu, Some(&bias_gpu), &options, path);
        let comparison = compare(
            name,
            &run()?.read::<f32>(gpu)?,
            &reference.values(),
            &tolerances,
        );
        rows.push(measure(
            gpu,
            matmul_shape(&dims),
            comparison,
            Throughput::gflops(dims.flops()),
            || run().map(drop),
        )?);
    }
    Ok(rows)
}

fn f16_rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    let to_f16 = |values: Vec<f32>| values.into_iter().map(f16::from_f32).collect::<Vec<_>>();
    let a = to_f16(rng.uniform_vec(SIDE * SIDE, -1.0, 1.0));
    let b = to_f16(rng.uniform_vec(SIDE * SIDE, -1.0, 1.0));
    let bias = rng.uniform_vec(SIDE, -1.0, 1.0);
    let a_gpu = GpuTensor::upload(gpu, &[SIDE, SIDE], &a)?;
    let b_gpu = GpuTensor::upload(gpu, &[SIDE, SIDE], &b)?;
    let bias_gpu = GpuTensor::upload(gpu, &[SIDE], &bias)?;
    let options = MatmulOptions {
        b_transposed: true,
        activation: Activation::Silu,
    };
    let dims = MatmulDims::infer("selfcheck", &[SIDE, SIDE], &[SIDE, SIDE], true)?;
    let reference = reference_matmul_f16(&a, &b, &dims, Some(&bias), options.activation);
    let tolerances = reference.tolerances(OutputPrecision::F16);
    let mut paths = vec![("matmul f16 packed", F16Path::Packed)];
    if gpu.capabilities().shader_f16 {
        paths.insert(0, ("matmul f16 native", F16Path::Native));
    }
    let mut rows = Vec::new();
    for (name, path) in paths {
        let run = || matmul_f16_with_path(gpu, &a_gpu, &b_gpu, Some(&bias_gpu), &options, path);
        let got: Vec<f32> = run()?
            .read::<f16>(gpu)?
            .iter()
            .map(|v| v.to_f32())
            .collect();
        let comparison = compare(name, &got, &reference.values(), &tolerances);
        rows.push(measure(
            gpu,
            matmul_shape(&dims),
            comparison,
            Throughput::gflops(dims.flops()),
            || run().map(drop),
        )?);
    }
    Ok(rows)
}

fn gemv_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let a = rng.uniform_vec(GEMV_K, -1.0, 1.0);
    let w = rng.uniform_vec(GEMV_N * GEMV_K, -1.0, 1.0);
    let a_gpu = GpuTensor::upload(gpu, &[1, GEMV_K], &a)?;
    let w_gpu = GpuTensor::upload(gpu, &[GEMV_N, GEMV_K], &w)?;
    let options = MatmulOptions {
        b_transposed: true,
        activation: Activation::Identity,
    };
    let dims = MatmulDims::infer("selfcheck", &[1, GEMV_K], &[GEMV_N, GEMV_K], true)?;
    let reference = reference_matmul(&a, &w, &dims, None, options.activation);
    let run = || matmul_f32(gpu, &a_gpu, &w_gpu, None, &options);
    let name = "gemv f32 (dense)";
    let comparison = compare(
        name,
        &run()?.read::<f32>(gpu)?,
        &reference.values(),
        &reference.tolerances(OutputPrecision::F32),
    );
    let weight_bytes = (GEMV_N * GEMV_K * 4) as f64;
    measure(
        gpu,
        matmul_shape(&dims),
        comparison,
        Throughput::bandwidth(weight_bytes),
        || run().map(drop),
    )
}

/// The float matmul rows.
pub(super) fn rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    let mut rows = f32_rows(gpu, rng)?;
    rows.extend(f16_rows(gpu, rng)?);
    rows.push(gemv_row(gpu, rng)?);
    Ok(rows)
}
