//! The one CPU reference of the float convolutions (ONNX `Conv`, `ConvTranspose`) over any
//! number of spatial axes: plain loops in f64, the specification the GPU kernels and the CPU
//! backend follow.
//!
//! Both return a [`MatmulReference`], because a convolution is a matrix product whose operands are
//! gathered: output channel `m` of group `g` at output position `p` of image `n` is the dot
//! product of weight row `m` with the `K = C/groups · Π kernel` inputs under the kernel there,
//! padding counting as zeros. Its `dims` describe that product (`batch = N · groups`, `m = M /
//! groups`, `n = Π output`, `k = K`), whose `[batch, m, n]` order is exactly NC… order. So the
//! tolerance derivation of [`crate::ops::matmul::reference`] applies unchanged: a K-term f32 dot
//! product is within `(K + 2)·u·(Σ|x·w| + |bias|)` of the exact value in any summation order. For
//! the transposed convolution fewer than K terms may land on an output; K still bounds their
//! count. Each sum starts from the bias and adds the channels in order, each channel's taps in
//! row-major kernel order.

use crate::error::{Error, Result};
use crate::ops::conv::geometry::{ConvGeometry, ConvSpec, TransposeSpec};
use crate::ops::conv::params::ConvTranspose2dParams;
use crate::ops::conv::Conv2dParams;
use crate::ops::matmul::{MatmulDims, MatmulReference};
use crate::ops::Activation;
use crate::tensor::shape::strides;

/// The operands of one convolution: `x` of `x_shape` (`[N, C, spatial…]`), the weight `w` of
/// `w_shape` and an optional bias, one value per output channel.
#[derive(Clone, Copy, Debug)]
pub struct ConvOperands<'a> {
    /// The input values.
    pub x: &'a [f32],
    /// The input's shape, `[N, C, spatial…]`.
    pub x_shape: &'a [usize],
    /// The weight values, laid out as the op defines them.
    pub w: &'a [f32],
    /// The weight's shape.
    pub w_shape: &'a [usize],
    /// One bias per output channel.
    pub bias: Option<&'a [f32]>,
}

impl ConvOperands<'_> {
    /// Checks that the slices hold what their shapes say and the bias fits `out_channels`.
    fn check(&self, op: &'static str, out_channels: usize) -> Result<()> {
        let mismatch = |detail: String| Err(Error::ShapeMismatch { op, detail });
        let (x_len, w_len) = (
            self.x_shape.iter().product::<usize>(),
            self.w_shape.iter().product::<usize>(),
        );
        if self.x.len() != x_len || self.w.len() != w_len {
            return mismatch(format!(
                "input and weight shapes need {x_len} and {w_len} values, got {} and {}",
                self.x.len(),
                self.w.len()
            ));
        }
        match self.bias.map(<[f32]>::len) {
            Some(bias) if bias != out_channels => {
                mismatch(format!("bias must have {out_channels} values, got {bias}"))
            }
            _ => Ok(()),
        }
    }
}

/// `act(conv(x, w) + bias)` with the weight `[M, C/group, kernel…]`: output position `o` tap `k`
/// reads input position `o·stride + k·dilation − pad_begin` per axis. Output in NC… order; shape
/// errors as [`ConvGeometry::forward`].
pub fn reference_conv(
    operands: &ConvOperands,
    spec: &ConvSpec,
    activation: Activation,
) -> Result<MatmulReference> {
    let geometry = ConvGeometry::forward(spec, operands.x_shape, operands.w_shape)?;
    operands.check("conv", geometry.out_channels)?;
    let source = |axis: usize, out: usize, tap: usize| {
        let position = (out * geometry.strides[axis] + tap * geometry.dilations[axis]) as i64
            - geometry.pads_begin[axis];
        usize::try_from(position).ok()
    };
    let (channels_per_group, taps) = (operands.x_shape[1] / geometry.group, tap_count(&geometry));
    let weight_index = |out_channel: usize, channel_in_group: usize, tap: usize| {
        (out_channel * channels_per_group + channel_in_group) * taps + tap
    };
    Ok(gather_taps(
        operands,
        &geometry,
        source,
        weight_index,
        activation,
    ))
}

/// `act(conv_transpose(x, w) + bias)` with the weight `[C, M/group, kernel…]` (ONNX), as a
/// gather: output position `o` tap `k` reads input position `(o + pad_begin − k·dilation) /
/// stride` per axis when that divides exactly. Negative pads (from `output_shape`) extend the
/// output with zeros. Output in NC… order; shape errors as [`ConvGeometry::transposed`].
pub fn reference_conv_transpose(
    operands: &ConvOperands,
    spec: &TransposeSpec,
    activation: Activation,
) -> Result<MatmulReference> {
    let geometry = ConvGeometry::transposed(spec, operands.x_shape, operands.w_shape)?;
    operands.check("conv_transpose", geometry.out_channels)?;
    let source = |axis: usize, out: usize, tap: usize| {
        let offset =
            out as i64 + geometry.pads_begin[axis] - (tap * geometry.dilations[axis]) as i64;
        let stride = geometry.strides[axis] as i64;
        (offset >= 0 && offset % stride == 0).then(|| (offset / stride) as usize)
    };
    let channels_per_group = operands.x_shape[1] / geometry.group;
    let out_per_group = geometry.out_channels / geometry.group;
    let taps = tap_count(&geometry);
    let weight_index = |out_channel: usize, channel_in_group: usize, tap: usize| {
        let channel = out_channel / out_per_group * channels_per_group + channel_in_group;
        (channel * out_per_group + out_channel % out_per_group) * taps + tap
    };
    Ok(gather_taps(
        operands,
        &geometry,
        source,
        weight_index,
        activation,
    ))
}

/// [`reference_conv`] for NCHW `x` of `x_shape` and `w` of `w_shape` (`[M, C/groups, kH, kW]`)
/// with the 2-D launchers' parameters.
pub fn reference_conv2d(
    x: &[f32],
    x_shape: &[usize],
    w: &[f32],
    w_shape: &[usize],
    bias: Option<&[f32]>,
    params: &Conv2dParams,
    activation: Activation,
) -> Result<MatmulReference> {
    params.dims(x_shape, w_shape)?;
    let operands = ConvOperands {
        x,
        x_shape,
        w,
        w_shape,
        bias,
    };
    reference_conv(&operands, &params.spec(), activation)
}

/// [`reference_conv_transpose`] for NCHW `x` of `x_shape` and `w` of `w_shape` (`[C, M/groups,
/// kH, kW]`) with the 2-D launcher's parameters.
pub fn reference_conv_transpose2d(
    x: &[f32],
    x_shape: &[usize],
    w: &[f32],
    w_shape: &[usize],
    bias: Option<&[f32]>,
    params: &ConvTranspose2dParams,
    activation: Activation,
) -> Result<MatmulReference> {
    params.dims(x_shape, w_shape)?;
    let operands = ConvOperands {
        x,
        x_shape,
        w,
        w_shape,
        bias,
    };
    reference_conv_transpose(&operands, &params.spec(), activation)
}

fn tap_count(geometry: &ConvGeometry) -> usize {
    geometry.kernel.iter().product()
}

/// The product that describes `geometry` for `operands` (see the module documentation), with an
/// empty reference.
fn empty_reference(
    operands: &ConvOperands,
    geometry: &ConvGeometry,
    activation: Activation,
) -> MatmulReference {
    let out_count: usize = geometry.output.iter().product();
    let len = operands.x_shape[0] * geometry.out_channels * out_count;
    MatmulReference {
        pre_activation: Vec::with_capacity(len),
        magnitude: Vec::with_capacity(len),
        output: Vec::with_capacity(len),
        dims: MatmulDims {
            batch: operands.x_shape[0] * geometry.group,
            m: geometry.out_channels / geometry.group,
            n: out_count,
            k: operands.x_shape[1] / geometry.group * tap_count(geometry),
            b_batched: true,
            b_transposed: false,
        },
        activation,
    }
}

/// The input offsets (within one channel plane) that each tap of output position `out_index`
/// reads, `None` where the tap lies in the padding.
fn tap_offsets(
    geometry: &ConvGeometry,
    spatial: &[usize],
    out_index: &[usize],
    source: &impl Fn(usize, usize, usize) -> Option<usize>,
) -> Vec<Option<usize>> {
    let in_strides = strides(spatial);
    let mut tap_index = vec![0; spatial.len()];
    (0..tap_count(geometry))
        .map(|tap| {
            unravel(tap, &geometry.kernel, &mut tap_index);
            (0..spatial.len()).try_fold(0, |offset, axis| {
                source(axis, out_index[axis], tap_index[axis])
                    .filter(|&position| position < spatial[axis])
                    .map(|position| offset + position * in_strides[axis])
            })
        })
        .collect()
}

/// The shared loop: `y[n, m, o] = bias[m] + Σ_c Σ_k x[n, group(m)·C/group + c, source(o, k)] ·
/// w[weight_index(m, c, k)]`, where `source` maps an output and tap position along one axis to
/// an input position (or none: padding) and positions past the input are padding too.
fn gather_taps(
    operands: &ConvOperands,
    geometry: &ConvGeometry,
    source: impl Fn(usize, usize, usize) -> Option<usize>,
    weight_index: impl Fn(usize, usize, usize) -> usize,
    activation: Activation,
) -> MatmulReference {
    let (batch, channels) = (operands.x_shape[0], operands.x_shape[1]);
    let spatial = &operands.x_shape[2..];
    let plane: usize = spatial.iter().product();
    let channels_per_group = channels / geometry.group;
    let out_per_group = geometry.out_channels / geometry.group;
    let out_count: usize = geometry.output.iter().product();
    let mut out_index = vec![0; spatial.len()];
    let mut reference = empty_reference(operands, geometry, activation);
    for image in 0..batch {
        for out_channel in 0..geometry.out_channels {
            let first_channel = out_channel / out_per_group * channels_per_group;
            let bias = operands
                .bias
                .map_or(0.0, |bias| f64::from(bias[out_channel]));
            for out in 0..out_count {
                unravel(out, &geometry.output, &mut out_index);
                let offsets = tap_offsets(geometry, spatial, &out_index, &source);
                let (mut sum, mut magnitude) = (bias, bias.abs());
                for c in 0..channels_per_group {
                    let x_plane = (image * channels + first_channel + c) * plane;
                    for (tap, offset) in offsets.iter().enumerate() {
                        if let Some(offset) = offset {
                            let w_value = operands.w[weight_index(out_channel, c, tap)];
                            let product =
                                f64::from(operands.x[x_plane + offset]) * f64::from(w_value);
                            sum += product;
                            magnitude += product.abs();
                        }
                    }
                }
                reference.pre_activation.push(sum);
                reference.magnitude.push(magnitude);
                reference.output.push(activation.reference(sum));
            }
        }
    }
    reference
}

/// Writes the row-major multi-index of `flat` within `shape` into `index`.
fn unravel(mut flat: usize, shape: &[usize], index: &mut [usize]) {
    for axis in (0..shape.len()).rev() {
        index[axis] = flat % shape[axis];
        flat /= shape[axis];
    }
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

    #[test]
    fn one_dimensional_by_hand() {
        // x = [1, 2, 3], w = [1, −1], pad 1 each side: [0−1, 1−2, 2−3, 3−0] = [−1, −1, −1, 3].
        let operands = ConvOperands {
            x: &[1.0, 2.0, 3.0],
            x_shape: &[1, 1, 3],
            w: &[1.0, -1.0],
            w_shape: &[1, 1, 2],
            bias: None,
        };
        let spec = ConvSpec {
            kernel_shape: &[],
            strides: &[],
            pads: &[1, 1],
            dilations: &[],
            group: 1,
            auto_pad: crate::ops::conv::AutoPad::NotSet,
        };
        let reference = reference_conv(&operands, &spec, Activation::Identity).unwrap();
        assert_eq!(reference.output, [-1.0, -1.0, -1.0, 3.0]);
        assert_eq!(reference.magnitude, [1.0, 3.0, 5.0, 3.0]);
        assert_eq!((reference.dims.n, reference.dims.k), (4, 2));
    }

    #[test]
    fn three_dimensional_transposed_with_an_extending_output_shape() {
        // One input voxel 2 and a 1×1×2 kernel [1, 3]: the full output is [2, 6]; asking for 3
        // along the last axis pads it by −1 at the end, which appends a zero.
        let operands = ConvOperands {
            x: &[2.0],
            x_shape: &[1, 1, 1, 1, 1],
            w: &[1.0, 3.0],
            w_shape: &[1, 1, 1, 1, 2],
            bias: Some(&[0.5]),
        };
        let spec = TransposeSpec {
            conv: ConvSpec {
                kernel_shape: &[],
                strides: &[],
                pads: &[],
                dilations: &[],
                group: 1,
                auto_pad: crate::ops::conv::AutoPad::NotSet,
            },
            output_padding: &[],
            output_shape: &[1, 1, 3],
        };
        let reference = reference_conv_transpose(&operands, &spec, Activation::Relu).unwrap();
        assert_eq!(reference.output, [2.5, 6.5, 0.5]);
        let short = ConvOperands {
            bias: Some(&[0.5, 1.0]),
            ..operands
        };
        assert!(reference_conv_transpose(&short, &spec, Activation::Identity).is_err());
    }
}
