//! Latency statistics over the timed iterations of one benchmark: percentiles by linear
//! interpolation between order statistics (numpy's default), mean, standard deviation and the
//! spread (interquartile range over the median, a dispersion figure that one outlier cannot move).

use serde::{Deserialize, Serialize};

/// The summary of one set of latency samples, in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub samples: usize,
    /// Fastest sample.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest sample.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator; 0 for one sample).
    pub stddev: f64,
    /// (p75 − p25) / p50: the interquartile range as a fraction of the median.
    pub spread: f64,
}

/// The `fraction` quantile (0 ≤ fraction ≤ 1) of `sorted` (ascending, non-empty): the order
/// statistic at rank `fraction·(n − 1)`, interpolated linearly between its neighbours.
pub fn quantile(sorted: &[f64], fraction: f64) -> f64 {
    let rank = fraction.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = rank.floor() as usize;
    let upper = rank.ceil() as usize;
    let weight = rank - lower as f64;
    sorted[lower] + (sorted[upper] - sorted[lower]) * weight
}

impl LatencySummary {
    /// Summarises `samples`; `None` when there are none or one is not a finite number.
    pub fn of(samples: &[f64]) -> Option<Self> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let count = sorted.len();
        let mean = sorted.iter().sum::<f64>() / count as f64;
        let squares: f64 = sorted.iter().map(|s| (s - mean).powi(2)).sum();
        let stddev = if count > 1 {
            (squares / (count - 1) as f64).sqrt()
        } else {
            0.0
        };
        let p50 = quantile(&sorted, 0.5);
        let interquartile = quantile(&sorted, 0.75) - quantile(&sorted, 0.25);
        Some(LatencySummary {
            samples: count,
            min: sorted[0],
            p50,
            p90: quantile(&sorted, 0.9),
            p99: quantile(&sorted, 0.99),
            max: sorted[count - 1],
            mean,
            stddev,
            spread: if p50 > 0.0 { interquartile / p50 } else { 0.0 },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let sorted = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&sorted, 0.0), 1.0);
        assert_eq!(quantile(&sorted, 0.5), 3.0);
        // Rank 0.9 · 4 = 3.6: 4 + 0.6 · (5 − 4).
        assert!((quantile(&sorted, 0.9) - 4.6).abs() < 1e-12);
        assert_eq!(quantile(&sorted, 1.0), 5.0);
        assert_eq!(quantile(&[7.0], 0.99), 7.0);
    }

    #[test]
    fn empty_or_non_finite_samples_have_no_summary() {
        assert_eq!(LatencySummary::of(&[]), None);
        assert_eq!(LatencySummary::of(&[1.0, f64::NAN]), None);
    }
}
