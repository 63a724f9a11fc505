//! Scalar quantization that matches ONNX `QuantizeLinear` / `DequantizeLinear`, and the min/max
//! calibration rule that picks a scale and zero point for a range of values.
//!
//! Quantizing `x` with `scale` and `zero_point` computes, exactly as the ONNX reference does:
//! `x / scale` in f32, rounded half to even, plus `zero_point`, saturated to the integer type's
//! range. Dequantizing computes `(q - zero_point) * scale`. The Q8 and Q4 layouts in
//! [`crate::tensor::q8`] and [`crate::tensor::q4`] are built from these functions.
//!
//! ```
//! use kiln::tensor::quant::{dequantize, quantize_i8};
//! let q = quantize_i8(0.26, 0.1, 0); // 2.6 rounds to 3
//! assert_eq!(q, 3);
//! assert!((dequantize(q.into(), 0.1, 0) - 0.3).abs() < 1e-6);
//! ```

use crate::error::{Error, Result};

/// Rounds to the nearest integer, ties to the even neighbour (ONNX and IEEE `roundTiesToEven`):
/// `0.5 -> 0`, `1.5 -> 2`, `2.5 -> 2`, `-1.5 -> -2`.
pub fn round_half_even(x: f32) -> f32 {
    x.round_ties_even()
}

/// `round_half_even(x / scale) + zero_point`, saturated to `[qmin, qmax]`; NaN maps to the zero
/// point (itself saturated, so the result is always in range). The sum is formed in f32 (as ONNX does) and is exact wherever it is not saturated.
fn quantize_saturating(x: f32, scale: f32, zero_point: i32, qmin: i32, qmax: i32) -> i32 {
    let shifted = round_half_even(x / scale) + zero_point as f32;
    if shifted.is_nan() {
        return zero_point.clamp(qmin, qmax);
    }
    shifted.clamp(qmin as f32, qmax as f32) as i32
}

/// Quantizes `x` to int8: `saturate(round_half_even(x / scale) + zero_point)` into `[-128, 127]`.
///
/// NaN maps to `zero_point` (so it dequantizes to 0); `+inf` and `-inf` saturate to 127 and -128.
/// `scale` should be finite and positive; other scales do not panic but give meaningless results.
pub fn quantize_i8(x: f32, scale: f32, zero_point: i8) -> i8 {
    quantize_saturating(x, scale, zero_point.into(), -128, 127) as i8
}

/// Quantizes `x` to uint8: `saturate(round_half_even(x / scale) + zero_point)` into `[0, 255]`.
///
/// NaN maps to `zero_point`; infinities saturate. See [`quantize_i8`].
pub fn quantize_u8(x: f32, scale: f32, zero_point: u8) -> u8 {
    quantize_saturating(x, scale, zero_point.into(), 0, 255) as u8
}

/// Quantizes `x` to uint4 held in a `u8`: `saturate(round_half_even(x / scale) + zero_point)`
/// into `[0, 15]`.
///
/// NaN maps to `zero_point`; infinities saturate. `zero_point` should itself be in `0..=15`.
pub fn quantize_u4(x: f32, scale: f32, zero_point: u8) -> u8 {
    quantize_saturating(x, scale, zero_point.into(), 0, 15) as u8
}

/// Dequantizes `q`: `(q - zero_point) as f32 * scale`. The difference is taken in i64, so it
/// cannot overflow for any pair of i32 inputs.
pub fn dequantize(q: i32, scale: f32, zero_point: i32) -> f32 {
    (i64::from(q) - i64::from(zero_point)) as f32 * scale
}

/// A scale and zero point chosen for one quantized tensor, channel or group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantParams {
    /// The step between adjacent quantized levels; finite and at least `f32::MIN_POSITIVE`.
    pub scale: f32,
    /// The quantized level that represents 0.0 exactly.
    pub zero_point: i32,
}

/// Picks a scale and zero point so that `[min, max]` fits the integer range `[qmin, qmax]`.
///
/// The range is first extended to include 0, so that 0.0 is always exactly representable.
/// - Symmetric: the zero point is 0 for signed ranges (`qmin < 0`) and `(qmin + qmax + 1) / 2`
///   for unsigned ones (128 for u8, 8 for u4); `scale = max(|min|, |max|) / (qmax - zero_point)`,
///   e.g. `amax / 127` for int8 and `amax / 7` for u4.
/// - Asymmetric: `scale = (max - min) / (qmax - qmin)` and
///   `zero_point = clamp(round_half_even(qmin - min / scale), qmin, qmax)`.
///
/// A zero range (`min == max == 0` after the extension) gives `scale = 1.0`, so every value of
/// the range quantizes to the zero point exactly. A non-zero scale below `f32::MIN_POSITIVE` is
/// raised to it, because GPUs may flush subnormal floats to zero; a scale that large still covers
/// the (tiny) range.
///
/// Errors with [`Error::InvalidArgument`] when `min` or `max` is not finite, `min > max`,
/// `qmin >= qmax`, a symmetric range has no positive levels above its zero point, or the
/// asymmetric scale overflows f32.
///
/// ```
/// use kiln::tensor::quant::minmax_params;
/// let params = minmax_params(-2.0, 1.0, -128, 127, true)?;
/// assert_eq!((params.scale, params.zero_point), (2.0 / 127.0, 0));
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn minmax_params(
    min: f32,
    max: f32,
    qmin: i32,
    qmax: i32,
    symmetric: bool,
) -> Result<QuantParams> {
    let invalid = |detail: String| Error::InvalidArgument {
        op: "minmax_params",
        detail,
    };
    if !min.is_finite() || !max.is_finite() || min > max {
        return Err(invalid(format!(
            "range [{min}, {max}] must be finite with min <= max"
        )));
    }
    if qmin >= qmax {
        return Err(invalid(format!(
            "integer range [{qmin}, {qmax}] must have qmin < qmax"
        )));
    }
    let min = min.min(0.0);
    let max = max.max(0.0);
    let levels = (i64::from(qmax) - i64::from(qmin)) as f32;
    let symmetric_zero_point = if qmin < 0 {
        0
    } else {
        ((i64::from(qmin) + i64::from(qmax) + 1) / 2) as i32
    };
    let exact_scale = if symmetric {
        let positive_levels = qmax - symmetric_zero_point;
        if positive_levels < 1 {
            return Err(invalid(format!(
                "symmetric range [{qmin}, {qmax}] has no level above its zero point \
                 {symmetric_zero_point}"
            )));
        }
        min.abs().max(max) / positive_levels as f32
    } else {
        (max - min) / levels
    };
    if !exact_scale.is_finite() {
        return Err(invalid(format!(
            "range [{min}, {max}] is too wide for an f32 scale"
        )));
    }
    let scale = if exact_scale == 0.0 {
        1.0
    } else {
        exact_scale.max(f32::MIN_POSITIVE)
    };
    let zero_point = if symmetric {
        symmetric_zero_point
    } else {
        round_half_even(qmin as f32 - min / scale).clamp(qmin as f32, qmax as f32) as i32
    };
    Ok(QuantParams { scale, zero_point })
}

/// Checks that a row-major `[rows, cols]` matrix given as `len` values is well formed: both
/// dimensions non-zero and their product neither overflowing nor different from `len`.
pub(crate) fn check_matrix_len(
    op: &'static str,
    len: usize,
    rows: usize,
    cols: usize,
) -> Result<()> {
    if rows == 0 || cols == 0 {
        return Err(Error::InvalidArgument {
            op,
            detail: format!("dimensions must be non-zero, got [{rows}, {cols}]"),
        });
    }
    match rows.checked_mul(cols) {
        Some(expected) if expected == len => Ok(()),
        Some(expected) => Err(Error::ShapeMismatch {
            op,
            detail: format!("[{rows}, {cols}] needs {expected} values, got {len}"),
        }),
        None => Err(Error::InvalidArgument {
            op,
            detail: format!("[{rows}, {cols}] has more elements than usize can count"),
        }),
    }
}

/// Rejects a non-finite value, naming its row and column.
pub(crate) fn check_finite(op: &'static str, values: &[f32], cols: usize) -> Result<()> {
    match values.iter().position(|value| !value.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::InvalidArgument {
            op,
            detail: {
                let (row, col, value) = (index / cols, index % cols, values[index]);
                format!("value at row {row}, col {col} is {value}")
            },
        }),
    }
}

/// The smallest and largest of `values`, which should be finite (NaN is skipped).
pub(crate) fn min_max(values: &[f32]) -> (f32, f32) {
    values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(min, max), &value| {
            (min.min(value), max.max(value))
        })
}

/// Deterministic test data shared by the quantization tests: `len` values spread over
/// `[-amplitude, amplitude)` by Knuth's MMIX linear congruential generator.
#[cfg(test)]
pub(crate) fn test_values(len: usize, seed: u64, amplitude: f32) -> Vec<f32> {
    const MULTIPLIER: u64 = 6_364_136_223_846_793_005;
    const INCREMENT: u64 = 1_442_695_040_888_963_407;
    let mut state = seed;
    let mut next_unit = move || {
        state = state.wrapping_mul(MULTIPLIER).wrapping_add(INCREMENT);
        (state >> 40) as f32 / (1u64 << 24) as f32 // the top 24 bits, in [0, 1)
    };
    (0..len)
        .map(|_| (next_unit() * 2.0 - 1.0) * amplitude)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_round_to_even() {
        for (x, expected) in [
            (0.5, 0.0),
            (1.5, 2.0),
            (2.5, 2.0),
            (-0.5, 0.0),
            (-1.5, -2.0),
        ] {
            assert_eq!(round_half_even(x), expected, "round_half_even({x})");
        }
        assert_eq!(quantize_i8(2.5, 1.0, 0), 2);
        assert_eq!(quantize_u8(3.5, 1.0, 0), 4);
    }

    #[test]
    fn saturates_at_both_ends() {
        assert_eq!(quantize_i8(1000.0, 1.0, 0), 127);
        assert_eq!(quantize_i8(-1000.0, 1.0, 0), -128);
        assert_eq!(quantize_i8(100.0, 1.0, 100), 127);
        assert_eq!(quantize_u8(300.0, 1.0, 0), 255);
        assert_eq!(quantize_u8(-1.0, 1.0, 0), 0);
        assert_eq!(quantize_u4(16.0, 1.0, 0), 15);
        assert_eq!(quantize_u4(-9.0, 1.0, 8), 0);
        assert_eq!(quantize_u4(7.0, 1.0, 8), 15);
    }

    #[test]
    fn nan_maps_to_zero_point_and_infinities_saturate() {
        assert_eq!(quantize_i8(f32::NAN, 0.5, -3), -3);
        assert_eq!(quantize_u8(f32::NAN, 0.5, 77), 77);
        assert_eq!(quantize_u4(f32::NAN, 0.5, 8), 8);
        assert_eq!(quantize_i8(f32::INFINITY, 0.5, 0), 127);
        assert_eq!(quantize_i8(f32::NEG_INFINITY, 0.5, 0), -128);
        assert_eq!(quantize_u8(f32::INFINITY, 0.5, 0), 255);
        assert_eq!(quantize_u4(f32::NEG_INFINITY, 0.5, 8), 0);
    }

    #[test]
    fn round_trip_is_within_half_a_step() {
        for symmetric in [true, false] {
            let params = minmax_params(-3.0, 5.0, -128, 127, symmetric).unwrap();
            let zero_point = params.zero_point as i8;
            for x in test_values(1000, 7, 3.0)
                .into_iter()
                .chain([-3.0, 0.0, 3.0])
            {
                let q = quantize_i8(x, params.scale, zero_point);
                let back = dequantize(q.into(), params.scale, params.zero_point);
                // Slack for the two f32 roundings (x / scale and the product): a few ulps of |x|.
                let tolerance = params.scale / 2.0 + 4.0 * f32::EPSILON * x.abs().max(params.scale);
                assert!(
                    (back - x).abs() <= tolerance,
                    "x {x} back {back} symmetric {symmetric}"
                );
            }
        }
    }

    #[test]
    fn symmetric_params() {
        let int8 = minmax_params(-2.0, 1.0, -128, 127, true).unwrap();
        assert_eq!(
            int8,
            QuantParams {
                scale: 2.0 / 127.0,
                zero_point: 0
            }
        );
        let uint8 = minmax_params(-1.0, 2.54, 0, 255, true).unwrap();
        assert_eq!(
            uint8,
            QuantParams {
                scale: 2.54 / 127.0,
                zero_point: 128
            }
        );
        let uint4 = minmax_params(0.5, 1.4, 0, 15, true).unwrap();
        assert_eq!(
            uint4,
            QuantParams {
                scale: 1.4 / 7.0,
                zero_point: 8
            }
        );
    }

    #[test]
    fn asymmetric_params() {
        let uint8 = minmax_params(-1.0, 3.0, 0, 255, false).unwrap();
        assert_eq!(uint8.scale, 4.0 / 255.0);
        assert_eq!(uint8.zero_point, 64);
        let int8 = minmax_params(-1.0, 3.0, -128, 127, false).unwrap();
        assert_eq!(int8.zero_point, -64);
        // A positive-only range is extended down to 0, whose level is qmin.
        let positive = minmax_params(2.0, 4.0, -128, 127, false).unwrap();
        assert_eq!(
            positive,
            QuantParams {
                scale: 4.0 / 255.0,
                zero_point: -128
            }
        );
    }

    #[test]
    fn zero_range_has_unit_scale() {
        for (qmin, qmax, symmetric) in [(-128, 127, true), (-128, 127, false), (0, 15, true)] {
            let params = minmax_params(0.0, 0.0, qmin, qmax, symmetric).unwrap();
            assert_eq!(params.scale, 1.0);
            let q = quantize_saturating(0.0, params.scale, params.zero_point, qmin, qmax);
            assert_eq!(q, params.zero_point);
        }
    }

    #[test]
    fn rejects_bad_ranges() {
        for (min, max, qmin, qmax) in [
            (f32::NAN, 1.0, -128, 127),
            (0.0, f32::INFINITY, -128, 127),
            (2.0, 1.0, -128, 127),
            (0.0, 1.0, 5, 5),
        ] {
            let result = minmax_params(min, max, qmin, qmax, false);
            assert!(
                matches!(result, Err(Error::InvalidArgument { .. })),
                "{min} {max}"
            );
        }
        let too_wide = minmax_params(-f32::MAX, f32::MAX, 0, 1, false);
        assert!(matches!(too_wide, Err(Error::InvalidArgument { .. })));
        assert!(minmax_params(0.0, 1.0, 0, 1, true).is_err());
    }

    #[test]
    fn matrix_len_checks() {
        assert!(check_matrix_len("t", 6, 2, 3).is_ok());
        assert!(matches!(
            check_matrix_len("t", 5, 2, 3),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            check_matrix_len("t", 0, 0, 3),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(check_matrix_len("t", 0, usize::MAX, 2).is_err());
    }
}
