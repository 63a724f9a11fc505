//! Criterion benches for the sparse kernels beside the dense baseline they must beat: for one
//! weight (`KILN_BENCH_SPARSE_SIDE`, default 1024 for lavapipe; use 4096 on a GPU) at M = 1, 16 and
//! 256, dense f32, BSR 16×16 at 75% and 90% zero blocks, and 2:4, all in the same run. Throughput is
//! counted as the dense problem's operations for every kernel, so the rates compare directly as
//! effective speed (a sparse kernel at 2× the dense rate takes half the time).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiln::bench::time_iterations;
use kiln::check::SeededRng;
use kiln::device::Gpu;
use kiln::ops::matmul::f32::matmul_f32;
use kiln::ops::matmul::MatmulOptions;
use kiln::ops::sparse::bsr::{bsr_matmul, GpuBsrMatrix};
use kiln::ops::sparse::nm::{nm_matmul, GpuNmMatrix};
use kiln::ops::Activation;
use kiln::tensor::bsr::{BlockShape, BsrMatrix};
use kiln::tensor::nm_sparse::{NmPattern, NmSparseMatrix};
use kiln::tensor::GpuTensor;

fn benches(c: &mut Criterion) {
    let gpu = Gpu::from_env().expect("a GPU adapter (or lavapipe) for benchmarks");
    let side: usize = std::env::var("KILN_BENCH_SPARSE_SIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let mut rng = SeededRng::new(5);
    let dense = rng.uniform_vec(side * side, -1.0, 1.0);
    let dense_gpu = GpuTensor::upload(&gpu, &[side, side], &dense).unwrap();
    let bsr: Vec<(f32, GpuBsrMatrix)> = [0.75f32, 0.9]
        .into_iter()
        .map(|s| {
            let matrix =
                BsrMatrix::prune_by_magnitude(&dense, side, side, BlockShape::B16x16, s).unwrap();
            (s, GpuBsrMatrix::upload(&gpu, &matrix).unwrap())
        })
        .collect();
    let two_four =
        NmSparseMatrix::prune_by_magnitude(&dense, side, side, NmPattern::TWO_FOUR).unwrap();
    let two_four = GpuNmMatrix::upload(&gpu, &two_four).unwrap();
    let options = MatmulOptions {
        b_transposed: true,
        activation: Activation::Identity,
    };
    let mut group = c.benchmark_group(format!("sparse_{side}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    for m in [1usize, 16, 256] {
        let x = GpuTensor::upload(&gpu, &[m, side], &rng.uniform_vec(m * side, -1.0, 1.0)).unwrap();
        group.throughput(Throughput::Elements((2 * m * side * side) as u64));
        group.bench_function(BenchmarkId::new("dense", m), |b| {
            b.iter_custom(|iters| {
                timed(&gpu, iters, || {
                    drop(matmul_f32(&gpu, &x, &dense_gpu, None, &options).unwrap())
                })
            })
        });
        for (sparsity, w) in &bsr {
            group.bench_function(
                BenchmarkId::new(format!("bsr16x16_{:.0}", sparsity * 100.0), m),
                |b| {
                    b.iter_custom(|iters| {
                        timed(&gpu, iters, || {
                            drop(bsr_matmul(&gpu, &x, w, None, Activation::Identity).unwrap())
                        })
                    })
                },
            );
        }
        group.bench_function(BenchmarkId::new("2:4", m), |b| {
            b.iter_custom(|iters| {
                timed(&gpu, iters, || {
                    drop(nm_matmul(&gpu, &x, &two_four, None, Activation::Identity).unwrap())
                })
            })
        });
    }
    group.finish();
}

/// One criterion sample: `iters` runs synchronized once.
fn timed(gpu: &Gpu, iters: u64, run: impl FnMut()) -> Duration {
    time_iterations(gpu, iters, run).expect("device works")
}

criterion_group!(sparse_benches, benches);
criterion_main!(sparse_benches);
