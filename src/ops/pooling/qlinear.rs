//! QLinearAveragePool and QLinearGlobalAveragePool (onnxruntime's `com.microsoft` ops, inputs
//! `(x, x_scale, x_zero_point, y_scale, y_zero_point)`): the average of int8 or uint8 values,
//! requantized to another scale and zero point, in integers. The references here are the
//! specification; the GPU kernels ([`qlinear_average_pool2d`](super::qlinear_average_pool2d),
//! [`qlinear_global_average_pool`](super::qlinear_global_average_pool)) match them bit for bit.
//!
//! What is computed, for a window of `count` taps (as [`Pool2dOptions`] counts them):
//! 1. `sum = Σ (q − x_zp)` over the taps on real elements, exactly in i32;
//! 2. `y = saturate(round_half_even(f32(sum) · m[count]) + y_zp)`, every step in f32, with the
//!    multiplier `m[count] = x_scale / (y_scale · count)` rounded once from f64 to f32 on the host
//!    ([`QLinearPoolQuant::multiplier`]) — the same rounding as QuantizeLinear, and no division on
//!    the GPU, whose f32 division is not correctly rounded.
//!
//! Limits: `|q − x_zp| ≤ 255`, so `|sum| ≤ 255 · taps`. It is exact in f32 (step 2 converts it)
//! while `255 · taps < 2²⁴`, i.e. up to [`MAX_QLINEAR_POOL_TAPS`] = 65 793 taps (a 256 × 256
//! global pool); i32 itself would overflow only past 8 421 504 taps. Larger windows are an error.
//!
//! Against the float path `DQ → AveragePool → Q`: both approximate `v = s_x·Σ(q − z_x) /
//! (s_y·count)` in output steps and round it to an integer (then add `y_zp` and saturate, which
//! keeps a difference of one). Here `m[count]` and the product round once each, so the value
//! rounded is within `E_int = 2·2⁻²⁴·|v|` of `v` (`|v| ≤ 383` where it does not saturate). The float
//! path rounds each dequantized value, the sum and the division; with `|x| ≤ 255·s_x` its error in
//! output steps is at most `E_float = (k + 3)·2⁻²⁴·255·s_x/s_y`, where `k` is the number of f32
//! roundings of the sum: `k = 1` for kiln's CPU reference (it sums in f64), `k = taps` for an f32
//! accumulator (kiln's GPU, onnxruntime). While `E_int + E_float < ½` the two roundings land on
//! the same integer or, when `v` lies that close to a `.5` boundary, on neighbouring ones: at most
//! 1 step apart. With f32 sums that holds for `s_x = s_y` up to 32 000 taps, and for a 7 × 7
//! window while `s_x/s_y < 600`; with kiln's f64 reference sum, for `s_x/s_y < 8 000` at any
//! window. Beyond that one input step is hundreds of output steps and the float path's own
//! rounding errs by more than a step (the lowered result is then the more accurate one).

use crate::error::{Error, Result};
use crate::ops::pooling::reference::taps;
use crate::ops::pooling::Pool2dOptions;
use crate::tensor::DType;

/// The most taps one window (or global plane) may have: `255 · 65 793 < 2²⁴`, so the integer sum
/// converts to f32 exactly.
pub const MAX_QLINEAR_POOL_TAPS: usize = (1 << 24) / 255;

/// The quantization of a quantized average pool: input and output scale and zero point, in the
/// one 8-bit type both use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QLinearPoolQuant {
    /// The input's scale: finite, positive and normal.
    pub input_scale: f32,
    /// The input's zero point, in `dtype`'s range.
    pub input_zero_point: i32,
    /// The output's scale: finite, positive and normal.
    pub output_scale: f32,
    /// The output's zero point, in `dtype`'s range.
    pub output_zero_point: i32,
    /// `I8` or `U8`, of the input and the output alike.
    pub dtype: DType,
}

impl QLinearPoolQuant {
    /// The range of `dtype`, or an error for a type that is not int8 or uint8.
    pub fn range(&self) -> Result<(i32, i32)> {
        match self.dtype {
            DType::I8 => Ok((-128, 127)),
            DType::U8 => Ok((0, 255)),
            other => Err(invalid(format!(
                "quantized average pools take int8 or uint8, not {other}"
            ))),
        }
    }

    /// Checks the scales (finite, positive, normal) and zero points (in range).
    pub fn check(&self) -> Result<()> {
        let (low, high) = self.range()?;
        for (what, scale) in [("x", self.input_scale), ("y", self.output_scale)] {
            if !(scale.is_normal() && scale > 0.0) {
                return Err(invalid(format!(
                    "{what}_scale {scale} must be finite, positive and normal"
                )));
            }
        }
        for (what, zero) in [("x", self.input_zero_point), ("y", self.output_zero_point)] {
            if !(low..=high).contains(&zero) {
                return Err(invalid(format!(
                    "{what}_zero_point {zero} is outside {}'s range [{low}, {high}]",
                    self.dtype
                )));
            }
        }
        Ok(())
    }

    /// `x_scale / (y_scale · count)` rounded once to f32 (0 for a window with no tap).
    pub fn multiplier(&self, count: usize) -> f32 {
        if count == 0 {
            return 0.0;
        }
        (f64::from(self.input_scale) / (f64::from(self.output_scale) * count as f64)) as f32
    }

    /// The multipliers for every count from 0 to `taps`, as the 2-D kernel reads them.
    pub fn multipliers(&self, taps: usize) -> Vec<f32> {
        (0..=taps).map(|count| self.multiplier(count)).collect()
    }

    /// `saturate(round_half_even(f32(sum) · multiplier) + y_zp)`, every step in f32 as the
    /// kernels do it (`sum` is exact in f32 within [`MAX_QLINEAR_POOL_TAPS`]).
    pub fn requantize(&self, sum: i32, multiplier: f32) -> Result<i32> {
        let (low, high) = self.range()?;
        let scaled = (sum as f32 * multiplier).round_ties_even() + self.output_zero_point as f32;
        Ok(scaled.clamp(low as f32, high as f32) as i32)
    }
}

/// Checks a window of `taps` taps against [`MAX_QLINEAR_POOL_TAPS`].
pub fn check_taps(taps: usize) -> Result<()> {
    if taps > MAX_QLINEAR_POOL_TAPS {
        return Err(Error::LimitExceeded {
            what: "quantized average pool window taps",
            requested: taps as u64,
            limit: MAX_QLINEAR_POOL_TAPS as u64,
        });
    }
    Ok(())
}

/// QLinearAveragePool of the NCHW int8/uint8 values `input` (as i32, shape `shape`) with the
/// window `options`; the output, row-major, has
/// [`pool2d_output_shape`](super::pool2d_output_shape).
pub fn reference_qlinear_average_pool2d(
    input: &[i32],
    shape: [usize; 4],
    options: &Pool2dOptions,
    quant: &QLinearPoolQuant,
) -> Result<Vec<i32>> {
    quant.check()?;
    let [n, c, h, w] = shape;
    check_taps(options.kernel[0] * options.kernel[1])?;
    check_len(input.len(), n * c * h * w)?;
    let [out_h, out_w] = options.output_size([h, w])?;
    let mut output = Vec::with_capacity(n * c * out_h * out_w);
    for plane in input.chunks(h * w).take(n * c) {
        for oy in 0..out_h {
            let rows = taps(options, 0, h, oy);
            for ox in 0..out_w {
                let columns = taps(options, 1, w, ox);
                let (mut sum, mut real, mut in_padded) = (0i32, 0usize, 0usize);
                for &(y, y_padded) in &rows {
                    for &(x, x_padded) in &columns {
                        in_padded += usize::from(y_padded && x_padded);
                        if (0..h as i64).contains(&y) && (0..w as i64).contains(&x) {
                            sum += plane[y as usize * w + x as usize] - quant.input_zero_point;
                            real += 1;
                        }
                    }
                }
                let count = if options.count_include_pad {
                    in_padded
                } else {
                    real
                };
                output.push(quant.requantize(sum, quant.multiplier(count))?);
            }
        }
    }
    Ok(output)
}

/// QLinearGlobalAveragePool: each of the consecutive planes of `plane_len` int8/uint8 values (as
/// i32) of `input` averaged and requantized.
pub fn reference_qlinear_global_average_pool(
    input: &[i32],
    plane_len: usize,
    quant: &QLinearPoolQuant,
) -> Result<Vec<i32>> {
    quant.check()?;
    check_taps(plane_len)?;
    if plane_len == 0 {
        return Ok(Vec::new());
    }
    let multiplier = quant.multiplier(plane_len);
    input
        .chunks(plane_len)
        .map(|plane| {
            let sum: i32 = plane.iter().map(|&q| q - quant.input_zero_point).sum();
            quant.requantize(sum, multiplier)
        })
        .collect()
}

fn check_len(len: usize, expected: usize) -> Result<()> {
    if len != expected {
        return Err(Error::ShapeMismatch {
            op: "qlinear_average_pool",
            detail: format!("expected {expected} input values, got {len}"),
        });
    }
    Ok(())
}

fn invalid(detail: String) -> Error {
    Error::InvalidArgument {
        op: "qlinear_average_pool",
        detail,
    }
}
