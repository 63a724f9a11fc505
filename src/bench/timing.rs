//! Wall-clock timing of recorded GPU work around a synchronized queue.

use std::time::{Duration, Instant};

use crate::device::Gpu;
use crate::error::Result;

/// Seconds per run of `record` (which records one run of a kernel), averaged over enough runs to
/// take at least `min_seconds`, after one warm-up run. Runs are recorded back to back and
/// synchronized once, so the figure includes dispatch overhead but not a queue round trip per run.
pub fn time_per_run(
    gpu: &Gpu,
    min_seconds: f64,
    mut record: impl FnMut() -> Result<()>,
) -> Result<f64> {
    record()?;
    gpu.synchronize()?;
    let mut runs = 1usize;
    loop {
        let start = Instant::now();
        for _ in 0..runs {
            record()?;
        }
        gpu.synchronize()?;
        let elapsed = start.elapsed().as_secs_f64();
        if elapsed >= min_seconds || runs >= 1 << 16 {
            return Ok(elapsed / runs as f64);
        }
        runs *= 2;
    }
}

/// Wall time of `iterations` runs of `record`, recorded back to back after the queue is idle and
/// synchronized once at the end: the measurement criterion's `iter_custom` needs.
pub fn time_iterations(gpu: &Gpu, iterations: u64, mut record: impl FnMut()) -> Result<Duration> {
    gpu.synchronize()?;
    let start = Instant::now();
    for _ in 0..iterations {
        record();
    }
    gpu.synchronize()?;
    Ok(start.elapsed())
}
