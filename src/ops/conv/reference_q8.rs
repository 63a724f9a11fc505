//! The CPU reference for the int8 convolution (ONNX `QLinearConv` with int8 tensors, per-tensor
//! input quantization, per-output-channel weight scales with zero point 0 and an optional i32
//! bias): exact integer accumulation in i64, then the same f32 requantization the kernel performs,
//! so the GPU result must match it bit for bit.

use crate::error::{Error, Result};
use crate::ops::conv::Conv2dParams;

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

/// The int8 convolution of NCHW `x` (`x_shape`) with `w` (`[M, C/groups, kH, kW]`, zero point 0,
/// one scale per output channel in `weight_scales`) and an optional i32 `bias` (`[M]`, scale
/// `input_scale · weight_scale[m]`): `acc = Σ (x − x_zp)·w + bias` over the taps inside the
/// input (the padding holds the zero point, so it adds nothing), then [`requantize`]. Output in
/// NCHW order. Shape errors as [`Conv2dParams::output_shape`]; an accumulator that does not fit
/// i32 is an [`Error::InvalidArgument`].
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
    let lengths_fit = x.len() == x_shape.iter().product::<usize>()
        && w.len() == w_shape.iter().product::<usize>()
        && weight_scales.len() == m_count
        && bias.is_none_or(|bias| bias.len() == m_count);
    if !lengths_fit {
        return Err(Error::ShapeMismatch {
            op: OP,
            detail: format!("operand lengths do not match x {x_shape:?}, w {w_shape:?}"),
        });
    }
    let multipliers = requantize_multipliers(quant, weight_scales);
    let [kernel_h, kernel_w] = dims.kernel;
    let [height, width] = dims.input;
    let (channels_per_group, out_per_group) =
        (dims.channels_per_group(), dims.out_channels_per_group());
    let x_zero_point = i64::from(quant.input_zero_point);
    let mut output = Vec::with_capacity(dims.batch * m_count * dims.out_pixels());
    for image in 0..dims.batch {
        for out_channel in 0..m_count {
            let group = out_channel / out_per_group;
            for oh in 0..dims.output[0] {
                for ow in 0..dims.output[1] {
                    let mut acc = bias.map_or(0, |bias| i64::from(bias[out_channel]));
                    for c in 0..channels_per_group {
                        let channel = group * channels_per_group + c;
                        for kh in 0..kernel_h {
                            let ih = (oh * params.strides[0] + kh * params.dilations[0])
                                .checked_sub(params.pads[0])
                                .filter(|&ih| ih < height);
                            for kw in 0..kernel_w {
                                let iw = (ow * params.strides[1] + kw * params.dilations[1])
                                    .checked_sub(params.pads[1])
                                    .filter(|&iw| iw < width);
                                let (Some(ih), Some(iw)) = (ih, iw) else {
                                    continue;
                                };
                                let x_index =
                                    ((image * dims.channels + channel) * height + ih) * width + iw;
                                let w_index = ((out_channel * channels_per_group + c) * kernel_h
                                    + kh)
                                    * kernel_w
                                    + kw;
                                acc +=
                                    (i64::from(x[x_index]) - x_zero_point) * i64::from(w[w_index]);
                            }
                        }
                    }
                    let acc = i32::try_from(acc).map_err(|_| Error::InvalidArgument {
                        op: OP,
                        detail: format!("accumulator {acc} (with bias) does not fit i32"),
                    })?;
                    output.push(requantize(
                        acc,
                        multipliers[out_channel],
                        quant.output_zero_point,
                    ));
                }
            }
        }
    }
    Ok(output)
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
}
