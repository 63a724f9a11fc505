//! Timing one benchmark: warm-up runs, then timed iterations, each submitted and waited for on its
//! own so every iteration is one latency sample. On a GPU each iteration is timed twice: by GPU
//! timestamps around the recorded work (where the adapter has them) and by the wall clock around
//! the synchronised queue (which adds submission and wake-up overhead). Both are kept and labelled.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::bench::stats::LatencySummary;
use crate::device::timestamps::{pair_durations, TimestampQueries};
use crate::device::Gpu;
use crate::error::{Error, Result};

/// How many runs to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IterationSettings {
    /// Untimed runs first (pipeline compilation, pool allocation, caches).
    pub warmup: usize,
    /// Timed runs, one latency sample each.
    pub iterations: usize,
}

impl Default for IterationSettings {
    fn default() -> Self {
        IterationSettings {
            warmup: 3,
            iterations: 20,
        }
    }
}

impl IterationSettings {
    /// At least one timed iteration is needed: zero is an [`Error::InvalidArgument`].
    pub fn validate(&self) -> Result<()> {
        if self.iterations == 0 {
            return Err(Error::InvalidArgument {
                op: "bench",
                detail: "--iters must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// Where a latency figure comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimingSource {
    /// GPU timestamp queries around the recorded work.
    GpuTimestamps,
    /// The host's monotonic clock around a submitted and waited-for run (or a CPU run).
    WallClock,
}

impl std::fmt::Display for TimingSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimingSource::GpuTimestamps => "gpu",
            TimingSource::WallClock => "wall",
        })
    }
}

/// The latency samples of one benchmark, in seconds.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    /// Wall-clock seconds per iteration.
    pub wall: Vec<f64>,
    /// GPU-timestamp seconds per iteration, where the adapter has timestamps and they were sane.
    pub gpu: Option<Vec<f64>>,
}

/// Both summaries of one benchmark and which one its throughput figures use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// The source the headline figures (p50 and throughput) come from: GPU timestamps when
    /// present, else the wall clock.
    pub primary: TimingSource,
    /// Wall-clock summary.
    pub wall: LatencySummary,
    /// GPU-timestamp summary, when measured.
    pub gpu: Option<LatencySummary>,
}

impl Latency {
    /// The summary of the primary source.
    pub fn primary_summary(&self) -> &LatencySummary {
        match (&self.gpu, self.primary) {
            (Some(gpu), TimingSource::GpuTimestamps) => gpu,
            _ => &self.wall,
        }
    }
}

impl Timings {
    /// The summaries; samples that are not finite numbers are an [`Error::InvalidArgument`].
    pub fn summarize(&self) -> Result<Latency> {
        let bad = || Error::InvalidArgument {
            op: "bench",
            detail: "no finite timing samples".into(),
        };
        let wall = LatencySummary::of(&self.wall).ok_or_else(bad)?;
        let gpu = self.gpu.as_deref().and_then(LatencySummary::of);
        let primary = if gpu.is_some() {
            TimingSource::GpuTimestamps
        } else {
            TimingSource::WallClock
        };
        Ok(Latency { primary, wall, gpu })
    }
}

/// Times `record` (which records one run of the work into the pending encoder) on `gpu`. With
/// `timestamps`, each iteration is bracketed by two marks; a pair whose end precedes its start is
/// dropped, and if more than half are dropped the GPU figures are left out (a driver whose counter
/// is not usable).
pub fn time_gpu(
    gpu: &Gpu,
    settings: &IterationSettings,
    mut timestamps: Option<&mut TimestampQueries>,
    mut record: impl FnMut() -> Result<()>,
) -> Result<Timings> {
    settings.validate()?;
    for _ in 0..settings.warmup {
        record()?;
        gpu.synchronize()?;
    }
    let mut wall = Vec::with_capacity(settings.iterations);
    let mut marks = Vec::with_capacity(2 * settings.iterations);
    for _ in 0..settings.iterations {
        if let Some(queries) = timestamps.as_deref_mut() {
            if queries.remaining() < 2 {
                marks.extend(queries.read(gpu)?);
            }
        }
        let start = Instant::now();
        if let Some(queries) = timestamps.as_deref_mut() {
            queries.mark(gpu)?;
            record()?;
            queries.mark(gpu)?;
        } else {
            record()?;
        }
        gpu.synchronize()?;
        wall.push(start.elapsed().as_secs_f64());
    }
    let gpu_seconds = match timestamps {
        Some(queries) => {
            marks.extend(queries.read(gpu)?);
            usable_durations(&marks)
        }
        None => None,
    };
    Ok(Timings {
        wall,
        gpu: gpu_seconds,
    })
}

fn usable_durations(marks_ns: &[f64]) -> Option<Vec<f64>> {
    let pairs = pair_durations(marks_ns);
    let usable: Vec<f64> = pairs.iter().flatten().copied().collect();
    if usable.is_empty() || usable.len() * 2 < pairs.len() || usable.iter().all(|&d| d == 0.0) {
        log::warn!("GPU timestamps unusable on this adapter; reporting wall-clock time only");
        return None;
    }
    Some(usable)
}

/// Times `run` on the host: the CPU reference backend.
pub fn time_cpu(
    settings: &IterationSettings,
    mut run: impl FnMut() -> Result<()>,
) -> Result<Timings> {
    settings.validate()?;
    for _ in 0..settings.warmup {
        run()?;
    }
    let mut wall = Vec::with_capacity(settings.iterations);
    for _ in 0..settings.iterations {
        let start = Instant::now();
        run()?;
        wall.push(start.elapsed().as_secs_f64());
    }
    Ok(Timings { wall, gpu: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_timestamps_are_primary_when_present() {
        let timings = Timings {
            wall: vec![3.0, 1.0, 2.0],
            gpu: Some(vec![0.5, 0.5]),
        };
        let latency = timings.summarize().unwrap();
        assert_eq!(latency.primary, TimingSource::GpuTimestamps);
        assert_eq!(latency.primary_summary().p50, 0.5);
        assert_eq!(latency.wall.p50, 2.0);
    }

    #[test]
    fn mostly_backward_timestamps_are_dropped() {
        assert_eq!(usable_durations(&[0.0, 10.0, 20.0, 5.0, 30.0, 1.0]), None);
        assert_eq!(usable_durations(&[0.0, 0.0, 5.0, 5.0]), None);
        assert_eq!(
            usable_durations(&[0.0, 1e9, 5.0, 1.0]),
            Some(vec![1.0]),
            "one good pair of two is kept"
        );
    }

    #[test]
    fn cpu_timing_runs_warmup_and_iterations() {
        let mut runs = 0;
        let settings = IterationSettings {
            warmup: 2,
            iterations: 5,
        };
        let timings = time_cpu(&settings, || {
            runs += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((runs, timings.wall.len()), (7, 5));
        assert!(timings.gpu.is_none());
    }
}
