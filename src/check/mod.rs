//! Comparing a kernel's output with its CPU reference. Every kernel test and the self-check use
//! [`compare`]: it reports the worst element (index, value, expected value, tolerance) so a failure
//! says where and by how much, not just that something differed.

mod rng;

pub use rng::SeededRng;

use std::fmt;

/// The element that came closest to (or went furthest past) its tolerance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorstElement {
    /// Flat index into the output.
    pub index: usize,
    /// The kernel's value.
    pub got: f64,
    /// The reference value.
    pub want: f64,
    /// The allowed absolute error there.
    pub tolerance: f64,
}

/// The result of comparing an output with its reference.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// What was compared.
    pub label: String,
    /// Elements compared.
    pub count: usize,
    /// Elements outside their tolerance (NaN where the reference is finite counts as outside).
    pub failures: usize,
    /// The largest absolute error over elements with finite references.
    pub max_abs_error: f64,
    /// The element with the largest error-to-tolerance ratio.
    pub worst: Option<WorstElement>,
}

impl Comparison {
    /// Whether every element is within its tolerance.
    pub fn passed(&self) -> bool {
        self.failures == 0
    }

    /// Panics with the full report unless every element passed. For tests.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "{self}");
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} of {} elements outside tolerance, max abs error {:.3e}",
            self.label, self.failures, self.count, self.max_abs_error
        )?;
        if let Some(worst) = self.worst {
            write!(
                f,
                "; worst at index {}: got {}, want {}, tolerance {:.3e}",
                worst.index, worst.got, worst.want, worst.tolerance
            )?;
        }
        Ok(())
    }
}

/// Compares `got` with `want` element by element, each within its own absolute `tolerance`. A NaN
/// reference must be matched by NaN, an infinite one by the same infinity.
pub fn compare(label: &str, got: &[f32], want: &[f32], tolerance: &[f32]) -> Comparison {
    let got: Vec<f64> = got.iter().map(|&v| f64::from(v)).collect();
    let want: Vec<f64> = want.iter().map(|&v| f64::from(v)).collect();
    let tolerance: Vec<f64> = tolerance.iter().map(|&v| f64::from(v)).collect();
    compare_f64(label, &got, &want, &tolerance)
}

/// Compares integer outputs, which must match exactly.
pub fn compare_exact(label: &str, got: &[i32], want: &[i32]) -> Comparison {
    let got: Vec<f64> = got.iter().map(|&v| f64::from(v)).collect();
    let want: Vec<f64> = want.iter().map(|&v| f64::from(v)).collect();
    compare_f64(label, &got, &want, &vec![0.0; want.len()])
}

fn compare_f64(label: &str, got: &[f64], want: &[f64], tolerance: &[f64]) -> Comparison {
    let mut comparison = Comparison {
        label: label.to_string(),
        count: want.len(),
        failures: 0,
        max_abs_error: 0.0,
        worst: None,
    };
    if got.len() != want.len() || tolerance.len() != want.len() {
        comparison.failures = want.len().max(got.len()).max(1);
        comparison.label = format!(
            "{label} (length mismatch: got {}, want {}, tolerances {})",
            got.len(),
            want.len(),
            tolerance.len()
        );
        return comparison;
    }
    let mut worst_ratio = -1.0f64;
    for (index, ((&g, &w), &tol)) in got.iter().zip(want).zip(tolerance).enumerate() {
        let (error, ratio) = if w.is_nan() || w.is_infinite() {
            let same = (w.is_nan() && g.is_nan()) || g == w;
            (0.0, if same { 0.0 } else { f64::INFINITY })
        } else {
            let error = (g - w).abs();
            let ratio = if error.is_nan() {
                f64::INFINITY
            } else if tol > 0.0 {
                error / tol
            } else if error == 0.0 {
                0.0
            } else {
                f64::INFINITY
            };
            (if error.is_nan() { f64::INFINITY } else { error }, ratio)
        };
        comparison.max_abs_error = comparison.max_abs_error.max(error);
        if ratio > 1.0 {
            comparison.failures += 1;
        }
        if ratio > worst_ratio {
            worst_ratio = ratio;
            comparison.worst = Some(WorstElement {
                index,
                got: g,
                want: w,
                tolerance: tol,
            });
        }
    }
    comparison
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_worst_element() {
        let result = compare("t", &[1.0, 2.5, 3.0], &[1.0, 2.0, 3.1], &[0.1, 0.1, 0.2]);
        assert_eq!(result.failures, 1);
        let worst = result.worst.unwrap();
        assert_eq!(worst.index, 1);
        assert!(!result.passed());
        assert!(result.to_string().contains("worst at index 1"));
    }

    #[test]
    fn nan_and_infinity_must_match_in_kind() {
        let nan = f32::NAN;
        assert!(compare(
            "t",
            &[nan, f32::INFINITY],
            &[nan, f32::INFINITY],
            &[0.0, 0.0]
        )
        .passed());
        assert!(!compare("t", &[1.0], &[nan], &[1.0]).passed());
        assert!(!compare("t", &[nan], &[1.0], &[1.0]).passed());
        assert!(!compare("t", &[f32::NEG_INFINITY], &[f32::INFINITY], &[1.0]).passed());
    }

    #[test]
    fn exact_comparison_and_length_mismatch() {
        assert!(compare_exact("t", &[1, -5], &[1, -5]).passed());
        assert_eq!(compare_exact("t", &[1, -4], &[1, -5]).failures, 1);
        assert!(!compare("t", &[1.0], &[1.0, 2.0], &[0.0, 0.0]).passed());
    }
}
