//! Convolutions over any number of spatial axes as plain loops in f64: the general form of
//! [`crate::ops::conv::reference_conv2d`] and [`crate::ops::conv::reference_conv_transpose2d`]
//! for the shapes those do not take (1-D, 3-D, negative transposed pads). Each output element
//! sums `x · w` over its input channels and kernel taps; a tap reads the input position the
//! geometry maps it to, and none where that lies in the padding.

use crate::runtime::cpu::conv_geometry::ConvGeometry;
use crate::tensor::shape::strides;

/// The operands of one convolution, shapes already checked by [`ConvGeometry`].
pub(super) struct ConvOperands<'a> {
    /// The input, `[N, C, spatial…]`.
    pub x: &'a [f32],
    /// The input's shape.
    pub x_shape: &'a [usize],
    /// The weight, laid out as the op defines it.
    pub w: &'a [f32],
    /// One bias per output channel.
    pub bias: Option<&'a [f32]>,
}

/// Conv: output `o` tap `k` reads input position `o·stride + k·dilation − pad_begin` per axis;
/// the weight is `[M, C / group, kernel…]`.
pub(super) fn convolve(operands: &ConvOperands, geometry: &ConvGeometry) -> Vec<f64> {
    let source = |axis: usize, out: usize, tap: usize| {
        let position = (out * geometry.strides[axis] + tap * geometry.dilations[axis]) as i64
            - geometry.pads_begin[axis];
        usize::try_from(position).ok()
    };
    let (channels_per_group, taps) = (operands.x_shape[1] / geometry.group, tap_count(geometry));
    let weight_index = |out_channel: usize, channel_in_group: usize, tap: usize| {
        (out_channel * channels_per_group + channel_in_group) * taps + tap
    };
    gather_taps(operands, geometry, source, weight_index)
}

/// ConvTranspose: output `o` tap `k` reads input position `(o + pad_begin − k·dilation) /
/// stride` per axis when that divides exactly; the weight is `[C, M / group, kernel…]`.
pub(super) fn convolve_transposed(operands: &ConvOperands, geometry: &ConvGeometry) -> Vec<f64> {
    let source = |axis: usize, out: usize, tap: usize| {
        let offset =
            out as i64 + geometry.pads_begin[axis] - (tap * geometry.dilations[axis]) as i64;
        let stride = geometry.strides[axis] as i64;
        (offset >= 0 && offset % stride == 0).then(|| (offset / stride) as usize)
    };
    let channels_per_group = operands.x_shape[1] / geometry.group;
    let out_per_group = geometry.out_channels / geometry.group;
    let taps = tap_count(geometry);
    let weight_index = |out_channel: usize, channel_in_group: usize, tap: usize| {
        let channel = out_channel / out_per_group * channels_per_group + channel_in_group;
        (channel * out_per_group + out_channel % out_per_group) * taps + tap
    };
    gather_taps(operands, geometry, source, weight_index)
}

fn tap_count(geometry: &ConvGeometry) -> usize {
    geometry.kernel.iter().product()
}

/// The shared loop, summing in the 2-D references' order (channels, then taps row-major):
/// `y[n, m, o] = bias[m] + Σ_c Σ_k x[n, group(m)·C/group + c, source(o, k)] ·
/// w[weight_index(m, c, k)]`, where `source` maps an output and tap position along one axis to
/// an input position (or none: padding) and positions past the input are padding too.
fn gather_taps(
    operands: &ConvOperands,
    geometry: &ConvGeometry,
    source: impl Fn(usize, usize, usize) -> Option<usize>,
    weight_index: impl Fn(usize, usize, usize) -> usize,
) -> Vec<f64> {
    let (batch, channels) = (operands.x_shape[0], operands.x_shape[1]);
    let spatial = &operands.x_shape[2..];
    let in_strides = strides(spatial);
    let plane: usize = spatial.iter().product();
    let channels_per_group = channels / geometry.group;
    let out_per_group = geometry.out_channels / geometry.group;
    let (out_count, taps): (usize, usize) = (geometry.output.iter().product(), tap_count(geometry));
    let mut out_index = vec![0; spatial.len()];
    let mut tap_index = vec![0; spatial.len()];
    let mut output = Vec::with_capacity(batch * geometry.out_channels * out_count);
    for image in 0..batch {
        for out_channel in 0..geometry.out_channels {
            let first_channel = out_channel / out_per_group * channels_per_group;
            let bias = operands
                .bias
                .map_or(0.0, |bias| f64::from(bias[out_channel]));
            for out in 0..out_count {
                unravel(out, &geometry.output, &mut out_index);
                let tap_offsets: Vec<Option<usize>> = (0..taps)
                    .map(|tap| {
                        unravel(tap, &geometry.kernel, &mut tap_index);
                        (0..spatial.len()).try_fold(0, |offset, axis| {
                            source(axis, out_index[axis], tap_index[axis])
                                .filter(|&position| position < spatial[axis])
                                .map(|position| offset + position * in_strides[axis])
                        })
                    })
                    .collect();
                let mut sum = bias;
                for c in 0..channels_per_group {
                    let x_plane = (image * channels + first_channel + c) * plane;
                    for (tap, offset) in tap_offsets.iter().enumerate() {
                        if let Some(offset) = offset {
                            let w_value = operands.w[weight_index(out_channel, c, tap)];
                            sum += f64::from(operands.x[x_plane + offset]) * f64::from(w_value);
                        }
                    }
                }
                output.push(sum);
            }
        }
    }
    output
}

/// Writes the row-major multi-index of `flat` within `shape` into `index`.
pub(super) fn unravel(mut flat: usize, shape: &[usize], index: &mut [usize]) {
    for axis in (0..shape.len()).rev() {
        index[axis] = flat % shape[axis];
        flat /= shape[axis];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::SeededRng;
    use crate::graph::{AutoPad, ConvAttrs, ConvTransposeAttrs};
    use crate::ops::conv::{
        reference_conv2d, reference_conv_transpose2d, Conv2dParams, ConvTranspose2dParams,
    };
    use crate::ops::Activation;

    fn attrs(
        strides: [usize; 2],
        pads: [usize; 4],
        dilations: [usize; 2],
        group: usize,
    ) -> ConvAttrs {
        ConvAttrs {
            kernel_shape: vec![],
            strides: strides.to_vec(),
            pads: pads.to_vec(),
            dilations: dilations.to_vec(),
            group,
            auto_pad: AutoPad::NotSet,
            activation: Activation::Identity,
        }
    }

    /// Both sums are f64 over the same terms in the same order, so they agree exactly.
    #[test]
    fn general_loops_match_the_2d_references() {
        let mut rng = SeededRng::new(7);
        let (x_shape, w_shape) = ([2, 4, 6, 5], [6, 2, 3, 2]);
        let x = rng.uniform_vec(x_shape.iter().product(), -1.0, 1.0);
        let w = rng.uniform_vec(w_shape.iter().product(), -1.0, 1.0);
        let bias = rng.uniform_vec(6, -1.0, 1.0);
        let conv = attrs([2, 1], [1, 0, 2, 1], [1, 2], 2);
        let geometry = ConvGeometry::forward(&conv, &x_shape, &w_shape).unwrap();
        let operands = ConvOperands {
            x: &x,
            x_shape: &x_shape,
            w: &w,
            bias: Some(&bias),
        };
        let params = Conv2dParams {
            strides: [2, 1],
            pads: [1, 0, 2, 1],
            dilations: [1, 2],
            groups: 2,
        };
        let reference = reference_conv2d(
            &x,
            &x_shape,
            &w,
            &w_shape,
            Some(&bias),
            &params,
            Activation::Identity,
        )
        .unwrap();
        assert_eq!(convolve(&operands, &geometry), reference.output);

        let t_shape = [4, 3, 3, 2];
        let t_weight = rng.uniform_vec(t_shape.iter().product(), -1.0, 1.0);
        let transpose = ConvTransposeAttrs {
            conv: attrs([2, 3], [1, 0, 0, 1], [2, 1], 2),
            output_padding: vec![1, 2],
            output_shape: vec![],
        };
        let geometry = ConvGeometry::transposed(&transpose, &x_shape, &t_shape).unwrap();
        let operands = ConvOperands {
            w: &t_weight,
            ..operands
        };
        let params = ConvTranspose2dParams {
            strides: [2, 3],
            pads: [1, 0, 0, 1],
            output_padding: [1, 2],
            dilations: [2, 1],
            groups: 2,
        };
        let reference = reference_conv_transpose2d(
            &x,
            &x_shape,
            &t_weight,
            &t_shape,
            Some(&bias),
            &params,
            Activation::Identity,
        )
        .unwrap();
        let shape = params.output_shape(&x_shape, &t_shape).unwrap();
        assert_eq!(geometry.output, shape[2..].to_vec());
        assert_eq!(convolve_transposed(&operands, &geometry), reference.output);
    }

    #[test]
    fn one_dimensional_by_hand() {
        // x = [1, 2, 3], w = [1, -1], pad 1 each side: [0−1, 1−2, 2−3, 3−0] = [-1, -1, -1, 3].
        let conv = ConvAttrs {
            strides: vec![1],
            pads: vec![1, 1],
            dilations: vec![1],
            ..attrs([1, 1], [0; 4], [1, 1], 1)
        };
        let geometry = ConvGeometry::forward(&conv, &[1, 1, 3], &[1, 1, 2]).unwrap();
        let operands = ConvOperands {
            x: &[1.0, 2.0, 3.0],
            x_shape: &[1, 1, 3],
            w: &[1.0, -1.0],
            bias: None,
        };
        assert_eq!(convolve(&operands, &geometry), vec![-1.0, -1.0, -1.0, 3.0]);
    }
}
