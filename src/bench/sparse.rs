//! The sparse speedup benchmark (`kiln bench sparse`): kiln's dense f32 matmul (the GEMV at one
//! row) against BSR at several fractions of zero blocks and against 2:4, on the same weight, the
//! same activations and the same device, in one run. Speedups are dense time / sparse time.

use crate::bench::time_per_run;
use crate::check::SeededRng;
use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::ops::matmul::f32::matmul_f32;
use crate::ops::matmul::MatmulOptions;
use crate::ops::sparse::bsr::{bsr_matmul, GpuBsrMatrix};
use crate::ops::sparse::nm::{nm_matmul, GpuNmMatrix};
use crate::ops::Activation;
use crate::tensor::bsr::{BlockShape, BsrMatrix};
use crate::tensor::nm_sparse::{NmPattern, NmSparseMatrix};
use crate::tensor::GpuTensor;

/// What to measure.
#[derive(Clone, Debug)]
pub struct SparseBenchConfig {
    /// Weights as (output channels N, reduction length K).
    pub weights: Vec<(usize, usize)>,
    /// Activation row counts M (M = 1 is the bandwidth-bound GEMV case).
    pub rows: Vec<usize>,
    /// Fractions of zero blocks for BSR, each in [0, 1].
    pub sparsities: Vec<f32>,
    /// The BSR block shape.
    pub block: BlockShape,
    /// Seconds each timing loop runs for.
    pub min_seconds: f64,
}

impl Default for SparseBenchConfig {
    /// A 4096×4096 weight (a large Linear layer) and a YOLO-sized 1×1 conv (512 → 255 channels,
    /// the YOLOv3 detection head) at M = 1, 16 and 256, BSR 16×16 at 50/75/90/95% zero blocks.
    fn default() -> Self {
        SparseBenchConfig {
            weights: vec![(4096, 4096), (255, 512)],
            rows: vec![1, 16, 256],
            sparsities: vec![0.5, 0.75, 0.9, 0.95],
            block: BlockShape::B16x16,
            min_seconds: 0.3,
        }
    }
}

/// One weight at one M: the dense time and every sparse time, in seconds per run.
#[derive(Clone, Debug)]
pub struct SparseBenchRow {
    /// Output channels.
    pub n: usize,
    /// Reduction length.
    pub k: usize,
    /// Activation rows.
    pub m: usize,
    /// Dense f32 seconds per run.
    pub dense_seconds: f64,
    /// BSR seconds per run, one per configured sparsity.
    pub bsr_seconds: Vec<f64>,
    /// 2:4 seconds per run.
    pub two_four_seconds: f64,
}

impl SparseBenchConfig {
    /// Fails with [`Error::InvalidArgument`] on an empty list, a zero size or a sparsity outside
    /// [0, 1].
    pub fn validate(&self) -> Result<()> {
        check(self)
    }
}

fn check(config: &SparseBenchConfig) -> Result<()> {
    let invalid = |detail: String| Error::InvalidArgument {
        op: "bench sparse",
        detail,
    };
    if config.weights.is_empty() || config.rows.is_empty() {
        return Err(invalid("give at least one weight and one row count".into()));
    }
    if let Some(s) = config.sparsities.iter().find(|s| !(0.0..=1.0).contains(*s)) {
        return Err(invalid(format!("sparsity {s} is outside [0, 1]")));
    }
    let zero_weight = config.weights.iter().any(|&(n, k)| n == 0 || k == 0);
    if zero_weight || config.rows.contains(&0) {
        return Err(invalid("sizes must be at least 1".into()));
    }
    Ok(())
}

/// Runs the benchmark, reporting each finished measurement through `progress`.
pub fn run(
    gpu: &Gpu,
    config: &SparseBenchConfig,
    mut progress: impl FnMut(&str),
) -> Result<Vec<SparseBenchRow>> {
    check(config)?;
    let mut rng = SeededRng::new(77);
    let mut rows = Vec::new();
    let dense_options = MatmulOptions {
        b_transposed: true,
        activation: Activation::Identity,
    };
    for &(n, k) in &config.weights {
        let dense = rng.uniform_vec(n * k, -1.0, 1.0);
        let dense_gpu = GpuTensor::upload(gpu, &[n, k], &dense)?;
        let bsr: Vec<GpuBsrMatrix> = config
            .sparsities
            .iter()
            .map(|&s| {
                GpuBsrMatrix::upload(
                    gpu,
                    &BsrMatrix::prune_by_magnitude(&dense, n, k, config.block, s)?,
                )
            })
            .collect::<Result<_>>()?;
        let two_four = GpuNmMatrix::upload(
            gpu,
            &NmSparseMatrix::prune_by_magnitude(&dense, n, k, NmPattern::TWO_FOUR)?,
        )?;
        for &m in &config.rows {
            let x = GpuTensor::upload(gpu, &[m, k], &rng.uniform_vec(m * k, -1.0, 1.0))?;
            let time = |record: &mut dyn FnMut() -> Result<()>| {
                time_per_run(gpu, config.min_seconds, record)
            };
            let dense_seconds =
                time(&mut || matmul_f32(gpu, &x, &dense_gpu, None, &dense_options).map(drop))?;
            let bsr_seconds = bsr
                .iter()
                .map(|w| time(&mut || bsr_matmul(gpu, &x, w, None, Activation::Identity).map(drop)))
                .collect::<Result<Vec<_>>>()?;
            let two_four_seconds =
                time(&mut || nm_matmul(gpu, &x, &two_four, None, Activation::Identity).map(drop))?;
            progress(&format!(
                "weight {n}x{k}, M = {m}: dense {:.3} ms",
                dense_seconds * 1e3
            ));
            rows.push(SparseBenchRow {
                n,
                k,
                m,
                dense_seconds,
                bsr_seconds,
                two_four_seconds,
            });
        }
    }
    Ok(rows)
}

/// The results as a Markdown table: dense time, then the speedup over dense of each sparse form.
pub fn format_table(config: &SparseBenchConfig, rows: &[SparseBenchRow]) -> String {
    let mut header = String::from("| weight N×K | M | dense ms |");
    let mut rule = String::from("|---|---|---|");
    for s in &config.sparsities {
        header.push_str(&format!(" BSR {} {:.0}% |", config.block, s * 100.0));
        rule.push_str("---|");
    }
    header.push_str(" 2:4 |\n");
    rule.push_str("---|\n");
    let mut table = header + &rule;
    for row in rows {
        table.push_str(&format!(
            "| {}×{} | {} | {:.3} |",
            row.n,
            row.k,
            row.m,
            row.dense_seconds * 1e3
        ));
        for seconds in &row.bsr_seconds {
            table.push_str(&format!(" {:.2}× |", row.dense_seconds / seconds));
        }
        table.push_str(&format!(
            " {:.2}× |\n",
            row.dense_seconds / row.two_four_seconds
        ));
    }
    table
}
