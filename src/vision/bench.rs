//! Per-stage latency of repeated [`crate::vision::Detector::detect`] runs: the median of each
//! stage and of the total, and the frames per second that median total allows.

use crate::bench::stats::LatencySummary;
use crate::vision::StageTimes;

/// Median milliseconds per stage over a set of runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageMedians {
    /// Runs summarised.
    pub runs: usize,
    /// Letterbox and normalisation.
    pub preprocess_ms: f64,
    /// The network.
    pub inference_ms: f64,
    /// Decode and score filtering.
    pub decode_ms: f64,
    /// Results copied to the host.
    pub readback_ms: f64,
    /// NMS and box mapping.
    pub nms_ms: f64,
    /// The median of the per-run totals (not the sum of the stage medians).
    pub total_ms: f64,
}

impl StageMedians {
    /// The medians of `runs`; `None` when there are none.
    pub fn of(runs: &[StageTimes]) -> Option<Self> {
        let median = |stage: fn(&StageTimes) -> std::time::Duration| {
            let samples: Vec<f64> = runs.iter().map(|t| stage(t).as_secs_f64() * 1e3).collect();
            LatencySummary::of(&samples).map(|summary| summary.p50)
        };
        Some(StageMedians {
            runs: runs.len(),
            preprocess_ms: median(|t| t.preprocess)?,
            inference_ms: median(|t| t.inference)?,
            decode_ms: median(|t| t.decode)?,
            readback_ms: median(|t| t.readback)?,
            nms_ms: median(|t| t.nms)?,
            total_ms: median(StageTimes::total)?,
        })
    }

    /// Frames per second at the median total.
    pub fn fps(&self) -> f64 {
        1e3 / self.total_ms
    }

    /// The table header matching [`StageMedians::row`].
    pub fn header() -> String {
        format!(
            "{:<28} {:>10} {:>10} {:>8} {:>9} {:>7} {:>9} {:>8}",
            "backend", "preprocess", "inference", "decode", "readback", "nms", "total ms", "FPS"
        )
    }

    /// One table row labelled `label`, milliseconds with two decimals.
    pub fn row(&self, label: &str) -> String {
        format!(
            "{label:<28} {:>10.2} {:>10.2} {:>8.2} {:>9.2} {:>7.2} {:>9.2} {:>8.1}",
            self.preprocess_ms,
            self.inference_ms,
            self.decode_ms,
            self.readback_ms,
            self.nms_ms,
            self.total_ms,
            self.fps()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn medians_are_per_stage_and_total() {
        let run = |inference_ms: u64| StageTimes {
            inference: Duration::from_millis(inference_ms),
            nms: Duration::from_millis(1),
            ..StageTimes::default()
        };
        let medians = StageMedians::of(&[run(10), run(30), run(20)]).unwrap();
        assert_eq!(medians.inference_ms, 20.0);
        assert_eq!(medians.total_ms, 21.0);
        assert!((medians.fps() - 1000.0 / 21.0).abs() < 1e-9);
        assert!(StageMedians::of(&[]).is_none());
    }
}
