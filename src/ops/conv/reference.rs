//! The CPU references for the float convolutions: plain nested loops in f64, the specification the
//! GPU kernels must match.
//!
//! Both return a [`MatmulReference`], because a convolution is a matrix product whose operands are
//! gathered: output channel `m` of group `g` at pixel `p` of image `n` is the dot product of
//! weight row `m` with the `K = C/groups · kH · kW` inputs under the kernel there, padding
//! counting as zeros. Its `dims` describe that product (`batch = N · groups`, `m = M / groups`,
//! `n = OH · OW`, `k = K`), whose `[batch, m, n]` order is exactly NCHW. So the tolerance
//! derivation of [`crate::ops::matmul::reference`] applies unchanged: a K-term f32 dot product is
//! within `(K + 2)·u·(Σ|x·w| + |bias|)` of the exact value in any summation order. For the
//! transposed convolution fewer than K terms may land on an output; K still bounds their count.

use crate::error::{Error, Result};
use crate::ops::conv::params::{ConvDims, ConvTranspose2dParams};
use crate::ops::conv::Conv2dParams;
use crate::ops::matmul::{MatmulDims, MatmulReference};
use crate::ops::Activation;

/// Checks that the operand slices hold what their shapes say.
fn check_lengths(
    op: &'static str,
    (x, x_len): (usize, usize),
    (w, w_len): (usize, usize),
    bias: Option<usize>,
    out_channels: usize,
) -> Result<()> {
    let mismatch = |detail: String| Err(Error::ShapeMismatch { op, detail });
    if x != x_len || w != w_len {
        return mismatch(format!(
            "input and weight shapes need {x_len} and {w_len} values, got {x} and {w}"
        ));
    }
    if let Some(bias) = bias.filter(|&bias| bias != out_channels) {
        return mismatch(format!("bias must have {out_channels} values, got {bias}"));
    }
    Ok(())
}

/// The product that describes `dims` (see the module documentation), with an empty reference.
fn empty_reference(dims: &ConvDims, activation: Activation) -> MatmulReference {
    let len = dims.batch * dims.out_channels * dims.out_pixels();
    MatmulReference {
        pre_activation: Vec::with_capacity(len),
        magnitude: Vec::with_capacity(len),
        output: Vec::with_capacity(len),
        dims: MatmulDims {
            batch: dims.batch * dims.groups,
            m: dims.out_channels_per_group(),
            n: dims.out_pixels(),
            k: dims.channels_per_group() * dims.kernel[0] * dims.kernel[1],
            b_batched: true,
            b_transposed: false,
        },
        activation,
    }
}

/// Appends one output element computed from its exact sum and magnitude.
fn push(reference: &mut MatmulReference, sum: f64, magnitude: f64) {
    reference.pre_activation.push(sum);
    reference.magnitude.push(magnitude);
    reference.output.push(reference.activation.reference(sum));
}

/// `act(conv(x, w) + bias)` for NCHW `x` of `x_shape` and `w` of `w_shape` (`[M, C/groups, kH,
/// kW]`), `bias` one value per output channel. Output in NCHW order; shape errors as
/// [`Conv2dParams::output_shape`].
pub fn reference_conv2d(
    x: &[f32],
    x_shape: &[usize],
    w: &[f32],
    w_shape: &[usize],
    bias: Option<&[f32]>,
    params: &Conv2dParams,
    activation: Activation,
) -> Result<MatmulReference> {
    let dims = params.dims(x_shape, w_shape)?;
    let x_len = x_shape.iter().product();
    let w_len = w_shape.iter().product();
    let bias_len = bias.map(<[f32]>::len);
    check_lengths(
        "conv2d",
        (x.len(), x_len),
        (w.len(), w_len),
        bias_len,
        dims.out_channels,
    )?;
    let [height, width] = dims.input.map(|size| size as isize);
    let [kernel_h, kernel_w] = dims.kernel;
    let (channels_per_group, out_per_group) =
        (dims.channels_per_group(), dims.out_channels_per_group());
    let mut reference = empty_reference(&dims, activation);
    for image in 0..dims.batch {
        for out_channel in 0..dims.out_channels {
            let group = out_channel / out_per_group;
            for oh in 0..dims.output[0] {
                for ow in 0..dims.output[1] {
                    let bias_value = bias.map_or(0.0, |bias| f64::from(bias[out_channel]));
                    let (mut sum, mut magnitude) = (bias_value, bias_value.abs());
                    for c in 0..channels_per_group {
                        let channel = group * channels_per_group + c;
                        for kh in 0..kernel_h {
                            let ih = (oh * params.strides[0] + kh * params.dilations[0]) as isize
                                - params.pads[0] as isize;
                            for kw in 0..kernel_w {
                                let iw = (ow * params.strides[1] + kw * params.dilations[1])
                                    as isize
                                    - params.pads[1] as isize;
                                if ih < 0 || ih >= height || iw < 0 || iw >= width {
                                    continue;
                                }
                                let x_index = ((image * dims.channels + channel) * dims.input[0]
                                    + ih as usize)
                                    * dims.input[1]
                                    + iw as usize;
                                let w_index = ((out_channel * channels_per_group + c) * kernel_h
                                    + kh)
                                    * kernel_w
                                    + kw;
                                let product = f64::from(x[x_index]) * f64::from(w[w_index]);
                                sum += product;
                                magnitude += product.abs();
                            }
                        }
                    }
                    push(&mut reference, sum, magnitude);
                }
            }
        }
    }
    Ok(reference)
}

/// `act(conv_transpose(x, w) + bias)` for NCHW `x` of `x_shape` and `w` of `w_shape` (`[C,
/// M/groups, kH, kW]`, ONNX), as a gather: output `(oh, ow)` sums `x[ih, iw] · w[kh, kw]` over
/// every tap with `oh + top = ih·stride + kh·dilation` (and likewise for the width). Output in
/// NCHW order; shape errors as [`ConvTranspose2dParams::output_shape`].
pub fn reference_conv_transpose2d(
    x: &[f32],
    x_shape: &[usize],
    w: &[f32],
    w_shape: &[usize],
    bias: Option<&[f32]>,
    params: &ConvTranspose2dParams,
    activation: Activation,
) -> Result<MatmulReference> {
    let dims = params.dims(x_shape, w_shape)?;
    let x_len = x_shape.iter().product();
    let w_len = w_shape.iter().product();
    let bias_len = bias.map(<[f32]>::len);
    let op = "conv_transpose2d";
    check_lengths(
        op,
        (x.len(), x_len),
        (w.len(), w_len),
        bias_len,
        dims.out_channels,
    )?;
    let [kernel_h, kernel_w] = dims.kernel;
    let (channels_per_group, out_per_group) =
        (dims.channels_per_group(), dims.out_channels_per_group());
    // The input index that tap `kernel_index` of output `out` reads along one axis, if any.
    let source = |axis: usize, out: usize, kernel_index: usize| -> Option<usize> {
        let offset =
            (out + params.pads[axis]).checked_sub(kernel_index * params.dilations[axis])?;
        let input = offset / params.strides[axis];
        (offset % params.strides[axis] == 0 && input < dims.input[axis]).then_some(input)
    };
    let mut reference = empty_reference(&dims, activation);
    for image in 0..dims.batch {
        for out_channel in 0..dims.out_channels {
            let (group, m) = (out_channel / out_per_group, out_channel % out_per_group);
            for oh in 0..dims.output[0] {
                for ow in 0..dims.output[1] {
                    let bias_value = bias.map_or(0.0, |bias| f64::from(bias[out_channel]));
                    let (mut sum, mut magnitude) = (bias_value, bias_value.abs());
                    for c in 0..channels_per_group {
                        let channel = group * channels_per_group + c;
                        for kh in 0..kernel_h {
                            let Some(ih) = source(0, oh, kh) else {
                                continue;
                            };
                            for kw in 0..kernel_w {
                                let Some(iw) = source(1, ow, kw) else {
                                    continue;
                                };
                                let x_index = ((image * dims.channels + channel) * dims.input[0]
                                    + ih)
                                    * dims.input[1]
                                    + iw;
                                let w_index =
                                    ((channel * out_per_group + m) * kernel_h + kh) * kernel_w + kw;
                                let product = f64::from(x[x_index]) * f64::from(w[w_index]);
                                sum += product;
                                magnitude += product.abs();
                            }
                        }
                    }
                    push(&mut reference, sum, magnitude);
                }
            }
        }
    }
    Ok(reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_convolution_by_hand() {
        // x = 1..9 as a 3×3 image, w = a 2×2 kernel [[1, 0], [0, -1]], pad 1 on the top only.
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let params = Conv2dParams {
            pads: [1, 0, 0, 0],
            ..Conv2dParams::default()
        };
        let reference = reference_conv2d(
            &x,
            &[1, 1, 3, 3],
            &[1.0, 0.0, 0.0, -1.0],
            &[1, 1, 2, 2],
            Some(&[0.5]),
            &params,
            Activation::Identity,
        )
        .unwrap();
        // Row 0 reads the padding row then x row 0: −x[0, 1], −x[0, 2]; row 1: x[0, c] − x[1, c+1].
        let want = [-2.0, -3.0, 1.0 - 5.0, 2.0 - 6.0, 4.0 - 8.0, 5.0 - 9.0].map(|v| v + 0.5);
        assert_eq!(reference.values(), want);
        assert_eq!(reference.dims.k, 4);
    }

    #[test]
    fn transpose_of_stride_one_is_a_flipped_full_convolution() {
        // ConvTranspose with stride 1 and no pads equals Conv with the kernel flipped and full
        // padding (kernel − 1 on every side).
        let x: Vec<f32> = (0..2 * 4 * 5).map(|v| (v % 7) as f32 - 3.0).collect();
        let w: Vec<f32> = (0..2 * 3 * 2 * 3).map(|v| (v % 5) as f32 - 2.0).collect();
        let transposed = reference_conv_transpose2d(
            &x,
            &[1, 2, 4, 5],
            &w,
            &[2, 3, 2, 3],
            None,
            &ConvTranspose2dParams::default(),
            Activation::Identity,
        )
        .unwrap();
        // Conv weight [3, 2, 2, 3]: w_conv[m, c, kh, kw] = w[c, m, 1 − kh, 2 − kw].
        let mut flipped = vec![0.0; w.len()];
        for m in 0..3 {
            for c in 0..2 {
                for kh in 0..2 {
                    for kw in 0..3 {
                        flipped[((m * 2 + c) * 2 + kh) * 3 + kw] =
                            w[((c * 3 + m) * 2 + (1 - kh)) * 3 + (2 - kw)];
                    }
                }
            }
        }
        let params = Conv2dParams {
            pads: [1, 2, 1, 2],
            ..Conv2dParams::default()
        };
        let conv = reference_conv2d(
            &x,
            &[1, 2, 4, 5],
            &flipped,
            &[3, 2, 2, 3],
            None,
            &params,
            Activation::Identity,
        )
        .unwrap();
        assert_eq!(transposed.values(), conv.values());
    }
}
