//! The one CPU reference of ONNX `QLinearConv` (i8 or u8, any spatial rank, per-tensor or
//! per-channel weight scales and zero points, an optional i32 bias): the exact integer accumulator
//! ([`qlinear_accumulators`], through the float convolution's one reference), then ONNX's
//! requantization ([`reference_qlinear_conv`]). The int8 GPU kernel's specification
//! ([`reference_conv2d_q8`]) takes the same accumulator and requantizes in f32 as the kernel does,
//! so the GPU result must match it bit for bit.

use crate::error::{Error, Result};
use crate::ops::conv::geometry::{ConvGeometry, ConvSpec};
use crate::ops::conv::reference::{reference_conv, ConvOperands};
use crate::ops::conv::Conv2dParams;
use crate::ops::Activation;

/// The longest reduction `K = C/groups·kH·kW` the int8 kernel accepts: `|x − x_zp| ≤ 255` and
/// `|w| ≤ 128`, and `65793 · 255 · 128 = 2 147 483 520 < 2³¹`, so the exact accumulator fits i32.
pub const MAX_Q8_K: usize = 65793;

/// The quantization of the int8 convolution's input and output (one scale and zero point each);
/// the weights carry their own per-channel scales. Uint8 data maps onto this exactly by
/// subtracting 128 from the values and the zero point (see [`crate::tensor::Q8Activations::from_u8`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QLinearQuant {
    /// The input's scale, finite and positive.
    pub input_scale: f32,
    /// The input's zero point; the padding holds it.
    pub input_zero_point: i8,
    /// The output's scale, finite and positive.
    pub output_scale: f32,
    /// The output's zero point.
    pub output_zero_point: i8,
}

impl QLinearQuant {
    /// Fails unless both scales are finite and positive.
    pub(crate) fn check(&self, op: &'static str) -> Result<()> {
        for (what, scale) in [("input", self.input_scale), ("output", self.output_scale)] {
            if !(scale.is_finite() && scale > 0.0) {
                return Err(Error::InvalidArgument {
                    op,
                    detail: format!("the {what} scale is {scale}; it must be finite and positive"),
                });
            }
        }
        Ok(())
    }
}

/// Per output channel, `input_scale · weight_scale[m] / output_scale` in f32, the factor that maps
/// an i32 accumulator to output steps. The GPU launcher uploads exactly these values.
pub fn requantize_multipliers(quant: &QLinearQuant, weight_scales: &[f32]) -> Vec<f32> {
    weight_scales
        .iter()
        .map(|&scale| quant.input_scale * scale / quant.output_scale)
        .collect()
}

/// `clamp(round_half_even(f32(acc) · multiplier) + zero_point, −128, 127)`, every step in f32 as
/// the kernel does it (`acc as f32` rounds to nearest even).
pub fn requantize(acc: i32, multiplier: f32, zero_point: i8) -> i8 {
    let scaled = (acc as f32 * multiplier).round_ties_even();
    (scaled + f32::from(zero_point)).clamp(-128.0, 127.0) as i8
}

/// QLinearConv's integer operands over any number of spatial axes: i8 or u8 data widened to
/// i32, `x` `[N, C, spatial…]`, `w` `[M, C/group, kernel…]`.
#[derive(Clone, Copy, Debug)]
pub struct QLinearOperands<'a> {
    /// The input values.
    pub x: &'a [i32],
    /// The input's shape.
    pub x_shape: &'a [usize],
    /// The input's zero point; the padding holds it.
    pub x_zero_point: i32,
    /// The weight values.
    pub w: &'a [i32],
    /// The weight's shape.
    pub w_shape: &'a [usize],
    /// One weight zero point per output channel.
    pub w_zero_points: &'a [i32],
    /// One i32 bias per output channel, scale `x_scale · w_scale[m]`.
    pub bias: Option<&'a [i32]>,
}

/// QLinearConv's scales: the input's, one per output channel for the weight, the output's.
#[derive(Clone, Copy, Debug)]
pub struct QLinearScales<'a> {
    /// The input's scale.
    pub x_scale: f32,
    /// One weight scale per output channel.
    pub w_scales: &'a [f32],
    /// The output's scale.
    pub y_scale: f32,
}

/// The exact accumulators `Σ (x − x_zp)·(w − w_zp[m]) + bias[m]` of QLinearConv, in NC… order,
/// with the geometry of [`crate::ops::conv::reference_conv`] (the padding holds the input's zero
/// point, so it adds nothing). The sums go through that one float reference on the shifted values:
/// each shifted value lies in `[−255, 255]` and is exact in f32, each product in f64, and every
/// partial sum is an integer far below 2⁵³ (`K · 255² < 2⁵³` for any `K < 2³⁷`), so the f64 sums
/// are exact. The bias is added in i64.
pub fn qlinear_accumulators(operands: &QLinearOperands, spec: &ConvSpec) -> Result<Vec<i64>> {
    let geometry = ConvGeometry::forward(spec, operands.x_shape, operands.w_shape)?;
    let out_channels = geometry.out_channels;
    let fits = operands.w_zero_points.len() == out_channels
        && operands.bias.is_none_or(|bias| bias.len() == out_channels)
        && operands.w.len() == operands.w_shape.iter().product::<usize>();
    if !fits {
        return Err(Error::ShapeMismatch {
            op: "qlinear_conv",
            detail: format!(
                "weight zero points and bias must hold {out_channels} values and w {:?} its \
                 elements",
                operands.w_shape
            ),
        });
    }
    let x_shifted: Vec<f32> = (operands.x.iter())
        .map(|&v| (v - operands.x_zero_point) as f32)
        .collect();
    let per_channel = operands.w.len() / out_channels;
    let w_shifted: Vec<f32> = (operands.w.iter().enumerate())
        .map(|(index, &v)| (v - operands.w_zero_points[index / per_channel]) as f32)
        .collect();
    let float_operands = ConvOperands {
        x: &x_shifted,
        x_shape: operands.x_shape,
        w: &w_shifted,
        w_shape: operands.w_shape,
        bias: None,
    };
    let sums = reference_conv(&float_operands, spec, Activation::Identity)?.pre_activation;
    let plane: usize = geometry.output.iter().product();
    Ok((sums.iter().enumerate())
        .map(|(index, &sum)| {
            let bias = operands
                .bias
                .map_or(0, |bias| bias[index / plane % out_channels]);
            sum as i64 + i64::from(bias)
        })
        .collect())
}

/// ONNX `QLinearConv` as onnxruntime (MLAS) and the int8 kernel compute it: the accumulator
/// ([`qlinear_accumulators`], wrapped to i32) converted to f32, times `x_scale · w_scale[m] /
/// y_scale` (that factor in f32), rounded half to even in f32, plus `y_zero_point`, saturated to
/// `[low, high]` (the output dtype's range; a Relu fused by the QDQ lowering raises `low` to
/// `y_zero_point`). ONNX's Python reference instead adds the zero point before rounding, in f64:
/// the two differ only at a rounding tie with an odd zero point or where the f32 product
/// rounds across a half (ONNX's QLinearConv conformance case gives the same bytes either way).
/// Output in NC… order.
pub fn reference_qlinear_conv(
    operands: &QLinearOperands,
    spec: &ConvSpec,
    scales: &QLinearScales,
    y_zero_point: i32,
    [low, high]: [i32; 2],
) -> Result<Vec<i32>> {
    let accumulators = qlinear_accumulators(operands, spec)?;
    let out_channels = operands.w_zero_points.len();
    if scales.w_scales.len() != out_channels {
        return Err(Error::ShapeMismatch {
            op: "qlinear_conv",
            detail: format!(
                "{} weight scales for {out_channels} output channels",
                scales.w_scales.len()
            ),
        });
    }
    let multipliers: Vec<f32> = (scales.w_scales.iter())
        .map(|&w_scale| scales.x_scale * w_scale / scales.y_scale)
        .collect();
    let plane = accumulators.len() / (operands.x_shape[0] * out_channels).max(1);
    let plane = plane.max(1);
    Ok((accumulators.iter().enumerate())
        .map(|(index, &acc)| {
            let multiplier = multipliers[index / plane % out_channels];
            let scaled = ((acc as i32) as f32 * multiplier).round_ties_even();
            (f64::from(scaled) + f64::from(y_zero_point)).clamp(f64::from(low), f64::from(high))
                as i32
        })
        .collect())
}

/// The int8 kernel's specification: the convolution of NCHW `x` (`x_shape`) with `w` (`[M,
/// C/groups, kH, kW]`, zero point 0, one scale per output channel in `weight_scales`) and an
/// optional i32 `bias` (`[M]`, scale `input_scale · weight_scale[m]`): the exact accumulator of
/// [`qlinear_accumulators`], then [`requantize`], every step in f32 as the kernel performs it
/// (ONNX's reference, [`reference_qlinear_conv`], scales in f64 and may differ by one step at a
/// rounding tie). Output in NCHW order. Shape errors as [`Conv2dParams::output_shape`]; an
/// accumulator that does not fit i32 is an [`Error::InvalidArgument`].
#[allow(clippy::too_many_arguments)]
pub fn reference_conv2d_q8(
    x: &[i8],
    x_shape: &[usize],
    w: &[i8],
    w_shape: &[usize],
    weight_scales: &[f32],
    bias: Option<&[i32]>,
    quant: &QLinearQuant,
    params: &Conv2dParams,
) -> Result<Vec<i8>> {
    const OP: &str = "conv2d_q8 reference";
    let dims = params.dims(x_shape, w_shape)?;
    let m_count = dims.out_channels;
    let lengths_fit =
        x.len() == x_shape.iter().product::<usize>() && weight_scales.len() == m_count;
    if !lengths_fit {
        return Err(Error::ShapeMismatch {
            op: OP,
            detail: format!("operand lengths do not match x {x_shape:?}, w {w_shape:?}"),
        });
    }
    let widen = |values: &[i8]| values.iter().map(|&v| i32::from(v)).collect::<Vec<i32>>();
    let (x, w) = (widen(x), widen(w));
    let operands = QLinearOperands {
        x: &x,
        x_shape,
        x_zero_point: i32::from(quant.input_zero_point),
        w: &w,
        w_shape,
        w_zero_points: &vec![0; m_count],
        bias,
    };
    let accumulators = qlinear_accumulators(&operands, &params.spec())?;
    let multipliers = requantize_multipliers(quant, weight_scales);
    let plane = dims.out_pixels();
    (accumulators.iter().enumerate())
        .map(|(index, &acc)| {
            let acc = i32::try_from(acc).map_err(|_| Error::InvalidArgument {
                op: OP,
                detail: format!("accumulator {acc} (with bias) does not fit i32"),
            })?;
            let channel = index / plane % m_count;
            Ok(requantize(
                acc,
                multipliers[channel],
                quant.output_zero_point,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requantize_rounds_half_to_even_and_saturates() {
        assert_eq!(requantize(5, 0.5, 0), 2); // 2.5 → 2
        assert_eq!(requantize(7, 0.5, 0), 4); // 3.5 → 4
        assert_eq!(requantize(-5, 0.5, 3), 1); // −2.5 → −2, + 3
        assert_eq!(requantize(1000, 1.0, 0), 127);
        assert_eq!(requantize(-1000, 1.0, -5), -128);
        assert_eq!(requantize(i32::MAX, 1.0, 0), 127);
    }

    #[test]
    fn padding_holds_the_zero_point() {
        // One 1×1 input of value 5 with zero point 5 (real value 0), a 3×3 kernel of ones, pad 1:
        // every tap reads 0 in real terms, so only the bias counts.
        let quant = QLinearQuant {
            input_scale: 1.0,
            input_zero_point: 5,
            output_scale: 1.0,
            output_zero_point: -1,
        };
        let params = Conv2dParams {
            pads: [1; 4],
            ..Conv2dParams::default()
        };
        let y = reference_conv2d_q8(
            &[5],
            &[1, 1, 1, 1],
            &[1; 9],
            &[1, 1, 3, 3],
            &[1.0],
            Some(&[7]),
            &quant,
            &params,
        )
        .unwrap();
        assert_eq!(y, vec![6]);
    }

    #[test]
    fn qlinear_conv_of_any_rank_with_per_channel_zero_points() {
        // 1-D: x − 3 = [−1, 0, 2], two output channels with kernels w − w_zp = [1, 1] and
        // [2, −1], pad 1 at the end (the padding holds x_zp, adding nothing).
        let operands = QLinearOperands {
            x: &[2, 3, 5],
            x_shape: &[1, 1, 3],
            x_zero_point: 3,
            w: &[11, 11, 2, -1],
            w_shape: &[2, 1, 2],
            w_zero_points: &[10, 0],
            bias: Some(&[1, -1]),
        };
        let spec = ConvSpec {
            kernel_shape: &[],
            strides: &[],
            pads: &[0, 1],
            dilations: &[],
            group: 1,
            auto_pad: crate::ops::conv::AutoPad::NotSet,
        };
        let accumulators = qlinear_accumulators(&operands, &spec).unwrap();
        // Channel 0: [−1 + 0, 0 + 2, 2] + 1; channel 1: [−2 − 0, 0 − 2, 4] − 1.
        assert_eq!(accumulators, [0, 3, 3, -3, -3, 3]);
        let scales = QLinearScales {
            x_scale: 0.5,
            w_scales: &[1.0, 0.5],
            y_scale: 1.0,
        };
        // Channel 0 scales by 0.5, channel 1 by 0.25: [0, 1.5, 1.5, −0.75, −0.75, 0.75], rounded
        // half to even before the zero point 1 is added, as onnxruntime does (ONNX's Python
        // reference, adding it first, would give 2 for the ties).
        let y = reference_qlinear_conv(&operands, &spec, &scales, 1, [0, 255]).unwrap();
        assert_eq!(y, [1, 3, 3, 0, 0, 2]);
        // A fused Relu raises the low bound to the zero point.
        let y = reference_qlinear_conv(&operands, &spec, &scales, 1, [1, 255]).unwrap();
        assert_eq!(y, [1, 3, 3, 1, 1, 2]);
        let short = QLinearOperands {
            w_zero_points: &[0],
            ..operands
        };
        assert!(qlinear_accumulators(&short, &spec).is_err());
    }
}
