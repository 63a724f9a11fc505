//! The self-check that `kiln` runs with no arguments: every kernel on the chosen device against its
//! CPU reference on seeded data, with the worst error, the tolerance it was held to, and the
//! kernel's throughput. A failing row makes the command exit non-zero.

mod conv_rows;
mod elementwise_rows;
mod integer_rows;
mod matmul_rows;
mod normalization_rows;
mod pooling_rows;
mod quantized_rows;
mod sparse_rows;

use crate::bench::time_per_run;
use crate::check::Comparison;
use crate::device::Gpu;
use crate::error::Result;
use crate::ops::matmul::MatmulDims;

/// One line of the self-check table.
#[derive(Clone, Debug)]
pub struct CheckRow {
    /// Kernel and variant, e.g. `matmul f32 vec4`.
    pub kernel: String,
    /// Problem size, e.g. `256x256x256`.
    pub shape: String,
    /// Largest absolute error against the reference.
    pub max_abs_error: f64,
    /// Largest error as a fraction of its element's tolerance (≤ 1 passes; 0 for exact kernels).
    pub worst_ratio: f64,
    /// Whether every element was within tolerance.
    pub passed: bool,
    /// Throughput measured over repeated runs.
    pub throughput: Throughput,
    /// Seconds per run of the kernel.
    pub seconds_per_run: f64,
    /// For sparse kernels: dense time / this kernel's time on the same problem, same run.
    pub speedup: Option<f64>,
}

/// A throughput figure with its unit.
#[derive(Clone, Copy, Debug)]
pub enum Throughput {
    /// Billions of floating-point operations per second.
    Gflops(f64),
    /// Billions of integer operations (two per multiply-add) per second.
    Gops(f64),
    /// Gigabytes of weights streamed per second (memory-bound kernels).
    GigabytesPerSecond(f64),
}

impl Throughput {
    /// A compute-bound figure: `flops` operations per run, rate filled in when the row is measured.
    pub fn gflops(flops: f64) -> Self {
        Throughput::Gflops(flops)
    }

    /// An integer compute-bound figure: `ops` operations per run.
    pub fn gops(ops: f64) -> Self {
        Throughput::Gops(ops)
    }

    /// A memory-bound figure: `bytes` of weights per run, rate filled in when the row is measured.
    pub fn bandwidth(bytes: f64) -> Self {
        Throughput::GigabytesPerSecond(bytes)
    }

    fn per_second(self, seconds: f64) -> Self {
        match self {
            Throughput::Gflops(flops) => Throughput::Gflops(flops / seconds / 1e9),
            Throughput::Gops(ops) => Throughput::Gops(ops / seconds / 1e9),
            Throughput::GigabytesPerSecond(bytes) => {
                Throughput::GigabytesPerSecond(bytes / seconds / 1e9)
            }
        }
    }
}

impl std::fmt::Display for Throughput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Throughput::Gflops(value) => write!(f, "{value:.2} GFLOP/s"),
            Throughput::Gops(value) => write!(f, "{value:.2} GOP/s"),
            Throughput::GigabytesPerSecond(value) => write!(f, "{value:.2} GB/s"),
        }
    }
}

/// Seconds each timing loop runs for.
pub(crate) const TIMING_SECONDS: f64 = 0.3;

/// The shape label of a matmul row: rows × columns × reduction length.
pub(crate) fn matmul_shape(dims: &MatmulDims) -> String {
    format!("{}x{}x{}", dims.batch * dims.m, dims.n, dims.k)
}

/// Turns a comparison into a row, timing `record` (one run of the kernel) for its throughput;
/// `shape` labels the problem and `work` holds the operations or bytes of one run.
pub(crate) fn measure(
    gpu: &Gpu,
    shape: String,
    comparison: Comparison,
    work: Throughput,
    record: impl FnMut() -> Result<()>,
) -> Result<CheckRow> {
    let seconds = time_per_run(gpu, TIMING_SECONDS, record)?;
    let worst_ratio = comparison.worst.map_or(0.0, |worst| {
        let error = (worst.got - worst.want).abs();
        if worst.tolerance > 0.0 {
            error / worst.tolerance
        } else if error == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    });
    Ok(CheckRow {
        kernel: comparison.label.clone(),
        shape,
        max_abs_error: comparison.max_abs_error,
        worst_ratio,
        passed: comparison.passed(),
        throughput: work.per_second(seconds),
        seconds_per_run: seconds,
        speedup: None,
    })
}

/// Runs every kernel check on `gpu`.
pub fn run(gpu: &Gpu) -> Result<Vec<CheckRow>> {
    let mut rng = crate::check::SeededRng::new(2026);
    let mut rows = matmul_rows::rows(gpu, &mut rng)?;
    rows.extend(quantized_rows::rows(gpu, &mut rng)?);
    rows.extend(integer_rows::rows(gpu, &mut rng)?);
    rows.extend(conv_rows::rows(gpu, &mut rng)?);
    rows.extend(elementwise_rows::rows(gpu, &mut rng)?);
    rows.extend(pooling_rows::rows(gpu, &mut rng)?);
    rows.extend(normalization_rows::rows(gpu, &mut rng)?);
    rows.extend(sparse_rows::rows(gpu, &mut rng)?);
    Ok(rows)
}

/// The table as text, one row per kernel.
pub fn format_table(rows: &[CheckRow]) -> String {
    let mut text = format!(
        "{:<32} {:>18} {:>11} {:>8} {:>4} {:>15} {:>9}\n",
        "kernel", "shape", "max error", "err/tol", "ok", "throughput", "vs dense"
    );
    for row in rows {
        text.push_str(&format!(
            "{:<32} {:>18} {:>11.3e} {:>8.3} {:>4} {:>15} {:>9}\n",
            row.kernel,
            row.shape,
            row.max_abs_error,
            row.worst_ratio,
            if row.passed { "yes" } else { "NO" },
            row.throughput.to_string(),
            row.speedup
                .map_or(String::new(), |speedup| format!("{speedup:.2}x"))
        ));
    }
    text
}
