//! Self-check rows for the sparse kernels: each against its CPU reference, and its time against
//! kiln's dense f32 matmul on the same weight (before pruning) and activations, in the same run.

use crate::bench::time_per_run;
use crate::check::{compare, compare_exact, Comparison, SeededRng};
use crate::device::Gpu;
use crate::error::Result;
use crate::ops::matmul::f32::matmul_f32;
use crate::ops::matmul::int8::{Dot4Path, GpuQ8Activations};
use crate::ops::matmul::reference::OutputPrecision;
use crate::ops::matmul::MatmulOptions;
use crate::ops::sparse::bsr::{bsr_matmul, bsr_matmul_q8_i32, GpuBsrMatrix};
use crate::ops::sparse::nm::{nm_matmul, GpuNmMatrix};
use crate::ops::sparse::{reference_bsr_matmul, reference_bsr_matmul_i8, reference_nm_matmul};
use crate::ops::Activation;
use crate::selfcheck::{measure, CheckRow, Throughput, TIMING_SECONDS};
use crate::tensor::bsr::{BlockShape, BsrMatrix};
use crate::tensor::nm_sparse::{NmPattern, NmSparseMatrix};
use crate::tensor::{GpuTensor, Q8Activations, Q8Scheme};

/// The weight every sparse row prunes: N = K = 1024, so one row is a bandwidth-bound GEMV.
const SIDE: usize = 1024;
/// Fraction of zero blocks in the BSR rows.
const SPARSITY: f32 = 0.75;

/// One weight and activations, with the dense baseline timed once for every sparse row on it.
struct Problem {
    dense: Vec<f32>,
    x: Vec<f32>,
    x_gpu: GpuTensor,
    m: usize,
    dense_seconds: f64,
}

impl Problem {
    fn new(gpu: &Gpu, rng: &mut SeededRng, m: usize) -> Result<Self> {
        let dense = rng.uniform_vec(SIDE * SIDE, -1.0, 1.0);
        let x = rng.uniform_vec(m * SIDE, -1.0, 1.0);
        let dense_gpu = GpuTensor::upload(gpu, &[SIDE, SIDE], &dense)?;
        let x_gpu = GpuTensor::upload(gpu, &[m, SIDE], &x)?;
        let options = MatmulOptions {
            b_transposed: true,
            activation: Activation::Identity,
        };
        let dense_seconds = time_per_run(gpu, TIMING_SECONDS, || {
            matmul_f32(gpu, &x_gpu, &dense_gpu, None, &options).map(drop)
        })?;
        Ok(Problem {
            dense,
            x,
            x_gpu,
            m,
            dense_seconds,
        })
    }

    /// The row for a sparse kernel on this problem: `run` timed, its throughput counted in the
    /// sparse weight's `payload_bytes`, and its speedup over the dense baseline.
    fn row(
        &self,
        gpu: &Gpu,
        comparison: Comparison,
        payload_bytes: usize,
        run: impl FnMut() -> Result<()>,
    ) -> Result<CheckRow> {
        let shape = format!("{}x{SIDE}x{SIDE}", self.m);
        let throughput = Throughput::bandwidth(payload_bytes as f64);
        let mut row = measure(gpu, shape, comparison, throughput, run)?;
        row.speedup = Some(self.dense_seconds / row.seconds_per_run);
        Ok(row)
    }
}

fn bsr_f32_row(gpu: &Gpu, problem: &Problem, block: BlockShape) -> Result<CheckRow> {
    let matrix = BsrMatrix::prune_by_magnitude(&problem.dense, SIDE, SIDE, block, SPARSITY)?;
    let w = GpuBsrMatrix::upload(gpu, &matrix)?;
    let name = format!("bsr f32 {block} 75% zero");
    let run = || bsr_matmul(gpu, &problem.x_gpu, &w, None, Activation::Identity);
    let reference =
        reference_bsr_matmul(&problem.x, problem.m, &matrix, None, Activation::Identity);
    let comparison = compare(
        &name,
        &run()?.read::<f32>(gpu)?,
        &reference.values(),
        &reference.tolerances(OutputPrecision::F32),
    );
    problem.row(gpu, comparison, matrix.bytes(), || run().map(drop))
}

fn bsr_int8_row(gpu: &Gpu, problem: &Problem) -> Result<CheckRow> {
    let matrix =
        BsrMatrix::prune_by_magnitude(&problem.dense, SIDE, SIDE, BlockShape::B16x16, SPARSITY)?
            .quantize_i8()?;
    let w = GpuBsrMatrix::upload(gpu, &matrix)?;
    let x = Q8Activations::calibrate(&problem.x, problem.m, SIDE, Q8Scheme::Asymmetric)?;
    let x_gpu = GpuQ8Activations::upload(gpu, &x, 1, problem.m)?;
    let name = "bsr int8 16x16 75% zero (i32)";
    let path = Dot4Path::preferred(gpu);
    let run = || bsr_matmul_q8_i32(gpu, &x_gpu, &w, path);
    let comparison = compare_exact(
        name,
        &run()?.read::<i32>(gpu)?,
        &reference_bsr_matmul_i8(&x, &matrix)?,
    );
    problem.row(gpu, comparison, matrix.bytes(), || run().map(drop))
}

fn two_four_row(gpu: &Gpu, problem: &Problem) -> Result<CheckRow> {
    let matrix =
        NmSparseMatrix::prune_by_magnitude(&problem.dense, SIDE, SIDE, NmPattern::TWO_FOUR)?;
    let w = GpuNmMatrix::upload(gpu, &matrix)?;
    let name = "2:4 f32";
    let run = || nm_matmul(gpu, &problem.x_gpu, &w, None, Activation::Identity);
    let reference = reference_nm_matmul(&problem.x, problem.m, &matrix, None, Activation::Identity);
    let comparison = compare(
        name,
        &run()?.read::<f32>(gpu)?,
        &reference.values(),
        &reference.tolerances(OutputPrecision::F32),
    );
    problem.row(gpu, comparison, matrix.bytes(), || run().map(drop))
}

/// The sparse rows: BSR f32 (GEMV at one row, GEMM at 64), BSR int8, and 2:4 at one row.
pub(super) fn rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    let one_row = Problem::new(gpu, rng, 1)?;
    let many_rows = Problem::new(gpu, rng, 64)?;
    Ok(vec![
        bsr_f32_row(gpu, &one_row, BlockShape::B16x16)?,
        bsr_f32_row(gpu, &many_rows, BlockShape::B16x16)?,
        bsr_int8_row(gpu, &many_rows)?,
        two_four_row(gpu, &one_row)?,
    ])
}
