//! Self-check rows for the matmul family.

use crate::check::{compare, Comparison, SeededRng};
use crate::device::Gpu;
use crate::error::Result;
use crate::ops::matmul::f32::{matmul_f32_with_path, F32LoadPath};
use crate::ops::matmul::reference::OutputPrecision;
use crate::ops::matmul::{reference_matmul, MatmulDims, MatmulOptions};
use crate::ops::Activation;
use crate::selfcheck::{time_per_run, CheckRow, Throughput};
use crate::tensor::GpuTensor;

/// Seconds each timing loop runs for.
const TIMING_SECONDS: f64 = 0.3;

fn row(kernel: &str, dims: &MatmulDims, comparison: &Comparison, seconds: f64) -> CheckRow {
    CheckRow {
        kernel: kernel.to_string(),
        shape: format!("{}x{}x{}", dims.m, dims.n, dims.k),
        max_abs_error: comparison.max_abs_error,
        worst_ratio: comparison.worst.map_or(0.0, |worst| {
            if worst.tolerance > 0.0 {
                (worst.got - worst.want).abs() / worst.tolerance
            } else {
                0.0
            }
        }),
        passed: comparison.passed(),
        throughput: Throughput::Gflops(dims.flops() / seconds / 1e9),
    }
}

fn f32_rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    let (m, n, k) = (256, 256, 256);
    let a = rng.uniform_vec(m * k, -1.0, 1.0);
    let b = rng.uniform_vec(n * k, -1.0, 1.0);
    let bias = rng.uniform_vec(n, -1.0, 1.0);
    let a_gpu = GpuTensor::upload(gpu, &[m, k], &a)?;
    let b_gpu = GpuTensor::upload(gpu, &[k, n], &b)?;
    let bias_gpu = GpuTensor::upload(gpu, &[n], &bias)?;
    let options = MatmulOptions {
        b_transposed: false,
        activation: Activation::Relu,
    };
    let dims = MatmulDims::infer("selfcheck", &[m, k], &[k, n], false)?;
    let reference = reference_matmul(&a, &b, &dims, Some(&bias), options.activation);
    let mut rows = Vec::new();
    for (name, path) in [
        ("matmul f32 vec4", F32LoadPath::Vec4),
        ("matmul f32 scalar", F32LoadPath::Scalar),
    ] {
        let run = || matmul_f32_with_path(gpu, &a_gpu, &b_gpu, Some(&bias_gpu), &options, path);
        let got = run()?.read::<f32>(gpu)?;
        let comparison = compare(
            name,
            &got,
            &reference.values(),
            &reference.tolerances(OutputPrecision::F32),
        );
        let seconds = time_per_run(gpu, TIMING_SECONDS, || run().map(drop))?;
        rows.push(row(name, &dims, &comparison, seconds));
    }
    Ok(rows)
}

/// Every matmul row.
pub fn rows(gpu: &Gpu) -> Result<Vec<CheckRow>> {
    let mut rng = SeededRng::new(2026);
    f32_rows(gpu, &mut rng)
}
