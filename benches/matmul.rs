//! Criterion benches for the five matmul kinds (f32, f16, int8 W8A8, int8 and int4 weight-only)
//! and the GEMVs. Sizes come from `KILN_BENCH_SIZES` (square side lengths, default `256,512` for lavapipe;
//! use `1024,4096` on a GPU); the device from `KILN_BACKEND` / `KILN_ADAPTER`. Throughput is in
//! operations (2 per multiply-add) for products and in weight bytes for GEMVs, so criterion prints
//! GFLOP/s-style rates; every kind is measured in the same run, so their ratios compare directly.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use half::f16;
use kiln::bench::time_iterations;
use kiln::check::SeededRng;
use kiln::device::Gpu;
use kiln::ops::matmul::f16::matmul_f16;
use kiln::ops::matmul::f32::matmul_f32;
use kiln::ops::matmul::int4::{matmul_q4, GpuQ4Weights};
use kiln::ops::matmul::int8::{matmul_q8, Dot4Path, GpuQ8Activations, GpuQ8Weights};
use kiln::ops::matmul::w8a32::matmul_w8;
use kiln::ops::matmul::MatmulOptions;
use kiln::ops::Activation;
use kiln::tensor::{GpuTensor, Q4GroupSize, Q4Weights, Q8Activations, Q8Scheme, Q8Weights};

fn sizes() -> Vec<usize> {
    std::env::var("KILN_BENCH_SIZES")
        .unwrap_or_else(|_| "256,512".to_string())
        .split(',')
        .filter_map(|size| size.trim().parse().ok())
        .collect()
}

fn bench_products(c: &mut Criterion, gpu: &Gpu) {
    let mut group = c.benchmark_group("matmul");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    let mut rng = SeededRng::new(9);
    for side in sizes() {
        let (m, n, k) = (side, side, side);
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        let a = rng.uniform_vec(m * k, -1.0, 1.0);
        let w = rng.uniform_vec(n * k, -1.0, 1.0);
        let options = MatmulOptions {
            b_transposed: true,
            activation: Activation::Identity,
        };

        let a32 = GpuTensor::upload(gpu, &[m, k], &a).unwrap();
        let w32 = GpuTensor::upload(gpu, &[n, k], &w).unwrap();
        group.bench_function(BenchmarkId::new("f32", side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    drop(matmul_f32(gpu, &a32, &w32, None, &options).unwrap())
                })
            })
        });

        let to_f16 = |values: &[f32]| values.iter().map(|&v| f16::from_f32(v)).collect::<Vec<_>>();
        let a16 = GpuTensor::upload(gpu, &[m, k], &to_f16(&a)).unwrap();
        let w16 = GpuTensor::upload(gpu, &[n, k], &to_f16(&w)).unwrap();
        group.bench_function(BenchmarkId::new("f16", side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    drop(matmul_f16(gpu, &a16, &w16, None, &options).unwrap())
                })
            })
        });

        let a8 = Q8Activations::calibrate(&a, m, k, Q8Scheme::Symmetric).unwrap();
        let a8 = GpuQ8Activations::upload(gpu, &a8, 1, m).unwrap();
        let w8 = GpuQ8Weights::upload(
            gpu,
            &Q8Weights::quantize(&w, n, k, Q8Scheme::Symmetric).unwrap(),
        )
        .unwrap();
        let path = Dot4Path::preferred(gpu);
        group.bench_function(BenchmarkId::new("int8", side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    drop(matmul_q8(gpu, &a8, &w8, None, Activation::Identity, path).unwrap())
                })
            })
        });

        group.bench_function(BenchmarkId::new("w8a32", side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    drop(matmul_w8(gpu, &a32, &w8, None, Activation::Identity).unwrap())
                })
            })
        });

        let w4 = Q4Weights::quantize(&w, n, k, Q4GroupSize::G128, true).unwrap();
        let w4 = GpuQ4Weights::upload(gpu, &w4).unwrap();
        group.bench_function(BenchmarkId::new("int4", side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    drop(matmul_q4(gpu, &a32, &w4, None, Activation::Identity).unwrap())
                })
            })
        });
    }
    group.finish();
}

fn bench_gemv(c: &mut Criterion, gpu: &Gpu) {
    let mut group = c.benchmark_group("gemv");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    let mut rng = SeededRng::new(10);
    for side in sizes().into_iter().map(|side| side * 4) {
        let (n, k) = (side, side);
        let x = GpuTensor::upload(gpu, &[1, k], &rng.uniform_vec(k, -1.0, 1.0)).unwrap();
        let w = rng.uniform_vec(n * k, -1.0, 1.0);
        let options = MatmulOptions {
            b_transposed: true,
            activation: Activation::Identity,
        };
        let w32 = GpuTensor::upload(gpu, &[n, k], &w).unwrap();
        group.throughput(Throughput::Bytes((n * k * 4) as u64));
        group.bench_function(BenchmarkId::new("f32", side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    drop(matmul_f32(gpu, &x, &w32, None, &options).unwrap())
                })
            })
        });
        let w8 = GpuQ8Weights::upload(
            gpu,
            &Q8Weights::quantize(&w, n, k, Q8Scheme::Symmetric).unwrap(),
        )
        .unwrap();
        group.throughput(Throughput::Bytes(w8.device_bytes()));
        group.bench_function(BenchmarkId::new("w8a32", side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    drop(matmul_w8(gpu, &x, &w8, None, Activation::Identity).unwrap())
                })
            })
        });
        let w4 = Q4Weights::quantize(&w, n, k, Q4GroupSize::G128, true).unwrap();
        let w4_bytes = w4.packed.len() * 4 + w4.scales.len() * 2 + w4.zero_points.len();
        let w4 = GpuQ4Weights::upload(gpu, &w4).unwrap();
        group.throughput(Throughput::Bytes(w4_bytes as u64));
        group.bench_function(BenchmarkId::new("int4", side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    drop(matmul_q4(gpu, &x, &w4, None, Activation::Identity).unwrap())
                })
            })
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let gpu = Gpu::from_env().expect("a GPU adapter (or lavapipe) for benchmarks");
    eprintln!(
        "benchmarking on {} ({:?})",
        gpu.info().name,
        gpu.info().backend
    );
    bench_products(c, &gpu);
    bench_gemv(c, &gpu);
}

/// One criterion sample: `iters` runs synchronized once.
fn timed(gpu: &Gpu, iters: u64, run: impl FnMut()) -> Duration {
    time_iterations(gpu, iters, run).expect("device works")
}

criterion_group!(matmul_benches, benches);
criterion_main!(matmul_benches);
