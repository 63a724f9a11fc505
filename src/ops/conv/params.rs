//! The 2-D launchers' parameters (ONNX `Conv` / `ConvTranspose` over NCHW with explicit pads) and
//! the kernel dimensions they give, for every dtype. The output extents come from the one geometry
//! resolver ([`crate::ops::conv::geometry`]); this file adds the launchers' 4-D shape checks.

use crate::error::{Error, Result};
use crate::ops::conv::geometry::{AutoPad, ConvGeometry, ConvSpec, TransposeSpec};

/// The attributes of a 2-D convolution over NCHW tensors (ONNX `Conv`).
///
/// ```
/// use kiln::ops::conv::Conv2dParams;
/// let params = Conv2dParams { strides: [2, 2], pads: [1, 1, 1, 1], ..Conv2dParams::default() };
/// // A 3×3 kernel, stride 2, pad 1 halves 224×224: [1, 3, 224, 224] * [32, 3, 3, 3].
/// assert_eq!(params.output_shape(&[1, 3, 224, 224], &[32, 3, 3, 3])?, [1, 32, 112, 112]);
/// # Ok::<(), kiln::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dParams {
    /// Step between output positions, `[height, width]`; each at least 1.
    pub strides: [usize; 2],
    /// Zero padding in ONNX order: top, left, bottom, right (asymmetric allowed).
    pub pads: [usize; 4],
    /// Spacing between kernel taps, `[height, width]`; each at least 1.
    pub dilations: [usize; 2],
    /// Channel groups: input and output channels are split into this many independent convs.
    pub groups: usize,
}

impl Default for Conv2dParams {
    /// Stride 1, no padding, dilation 1, one group.
    fn default() -> Self {
        Conv2dParams {
            strides: [1, 1],
            pads: [0; 4],
            dilations: [1, 1],
            groups: 1,
        }
    }
}

/// The validated dimensions of one convolution (forward or transposed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvDims {
    /// Images `N`.
    pub batch: usize,
    /// Input channels `C`.
    pub channels: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Output channels `M`.
    pub out_channels: usize,
    /// Output height and width.
    pub output: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Channel groups.
    pub groups: usize,
}

impl ConvDims {
    /// Input channels per group.
    pub fn channels_per_group(&self) -> usize {
        self.channels / self.groups
    }

    /// Output channels per group.
    pub fn out_channels_per_group(&self) -> usize {
        self.out_channels / self.groups
    }

    /// Output pixels per image and channel.
    pub fn out_pixels(&self) -> usize {
        self.output[0] * self.output[1]
    }

    /// The output shape `[N, M, OH, OW]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.out_channels,
            self.output[0],
            self.output[1],
        ]
    }
}

fn mismatch(op: &'static str, detail: String) -> Error {
    Error::ShapeMismatch { op, detail }
}

fn invalid(op: &'static str, detail: String) -> Error {
    Error::InvalidArgument { op, detail }
}

/// Splits NCHW `input` and 4-D `weight` into their dimensions after checking ranks, non-zero
/// sizes and that `groups` (so ≥ 1) divides `channels` (`input[1]`). Strides, dilations and the
/// output extents are the geometry resolver's to check.
fn split_shapes(
    op: &'static str,
    input: &[usize],
    weight: &[usize],
    groups: usize,
) -> Result<([usize; 4], [usize; 4])> {
    let (Ok(input), Ok(weight)) = (
        <[usize; 4]>::try_from(input),
        <[usize; 4]>::try_from(weight),
    ) else {
        return Err(mismatch(
            op,
            format!("input must be [N, C, H, W] and weight 4-D, got {input:?} and {weight:?}"),
        ));
    };
    if input.contains(&0) || weight.contains(&0) {
        return Err(invalid(
            op,
            format!("every dimension must be ≥ 1, got input {input:?} and weight {weight:?}"),
        ));
    }
    if !input[1].is_multiple_of(groups) {
        return Err(invalid(
            op,
            format!(
                "groups {groups} does not divide the {} input channels",
                input[1]
            ),
        ));
    }
    Ok((input, weight))
}

impl Conv2dParams {
    /// The output shape `[N, M, OH, OW]` of convolving `input` (`[N, C, H, W]`) with `weight`
    /// (`[M, C / groups, kH, kW]`). Wrong ranks or a weight that does not fit the input are an
    /// [`Error::ShapeMismatch`]; zero sizes, strides or dilations, groups that do not divide `C`
    /// and `M`, or an empty output are an [`Error::InvalidArgument`].
    pub fn output_shape(&self, input: &[usize], weight: &[usize]) -> Result<[usize; 4]> {
        Ok(self.dims(input, weight)?.output_shape())
    }

    /// [`Conv2dParams::output_shape`] with every dimension the kernels need.
    pub fn dims(&self, input: &[usize], weight: &[usize]) -> Result<ConvDims> {
        const OP: &str = "conv2d";
        let groups = self.groups;
        let ([batch, channels, height, width], [out_channels, weight_channels, kh, kw]) =
            split_shapes(OP, input, weight, groups)?;
        if !out_channels.is_multiple_of(groups) {
            return Err(invalid(
                OP,
                format!("groups {groups} does not divide the {out_channels} output channels"),
            ));
        }
        if weight_channels * groups != channels {
            return Err(mismatch(
                OP,
                format!(
                    "weight {weight:?} must be [M, C / groups = {}, kH, kW] for input {input:?} \
                     with {groups} groups",
                    channels / groups
                ),
            ));
        }
        let geometry = ConvGeometry::forward(&self.spec(), input, weight)?;
        let [out_height, out_width] = [geometry.output[0], geometry.output[1]];
        Ok(ConvDims {
            batch,
            channels,
            input: [height, width],
            out_channels,
            output: [out_height, out_width],
            kernel: [kh, kw],
            groups,
        })
    }

    /// These parameters as the geometry resolver's plain attribute lists.
    pub fn spec(&self) -> ConvSpec<'_> {
        ConvSpec {
            kernel_shape: &[],
            strides: &self.strides,
            pads: &self.pads,
            dilations: &self.dilations,
            group: self.groups,
            auto_pad: AutoPad::NotSet,
        }
    }

    /// The 2-D parameters of a resolved `geometry`, when it has two spatial axes and no
    /// negative pad.
    pub fn from_geometry(geometry: &ConvGeometry) -> Option<Self> {
        let (&[s0, s1], &[d0, d1]) = (&geometry.strides[..], &geometry.dilations[..]) else {
            return None;
        };
        let pads = <[usize; 4]>::try_from(geometry.unsigned_pads()?).ok()?;
        Some(Conv2dParams {
            strides: [s0, s1],
            pads,
            dilations: [d0, d1],
            groups: geometry.group,
        })
    }

    /// Whether this is a plain matrix product: a 1×1 kernel with stride 1 and no padding.
    pub fn is_pointwise(&self, dims: &ConvDims) -> bool {
        dims.kernel == [1, 1] && self.strides == [1, 1] && self.pads == [0; 4]
    }
}

/// The attributes of a 2-D transposed convolution over NCHW tensors (ONNX `ConvTranspose`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2dParams {
    /// Step between the output positions of neighbouring inputs, `[height, width]`; each ≥ 1.
    pub strides: [usize; 2],
    /// Cropping of the full output in ONNX order: top, left, bottom, right.
    pub pads: [usize; 4],
    /// Extra rows and columns added at the bottom and right; each below its stride or dilation.
    pub output_padding: [usize; 2],
    /// Spacing between kernel taps, `[height, width]`; each ≥ 1.
    pub dilations: [usize; 2],
    /// Channel groups.
    pub groups: usize,
}

impl Default for ConvTranspose2dParams {
    /// Stride 1, no padding or output padding, dilation 1, one group.
    fn default() -> Self {
        ConvTranspose2dParams {
            strides: [1, 1],
            pads: [0; 4],
            output_padding: [0; 2],
            dilations: [1, 1],
            groups: 1,
        }
    }
}

impl ConvTranspose2dParams {
    /// The output shape `[N, M, OH, OW]` of `input` (`[N, C, H, W]`) and `weight`
    /// (`[C, M / groups, kH, kW]`), where `OH = stride·(H − 1) + output_padding + dilation·(kH − 1)
    /// + 1 − top − bottom` (ONNX). Errors as [`Conv2dParams::output_shape`].
    pub fn output_shape(&self, input: &[usize], weight: &[usize]) -> Result<[usize; 4]> {
        Ok(self.dims(input, weight)?.output_shape())
    }

    /// [`ConvTranspose2dParams::output_shape`] with every dimension the kernel needs.
    pub fn dims(&self, input: &[usize], weight: &[usize]) -> Result<ConvDims> {
        const OP: &str = "conv_transpose2d";
        let groups = self.groups;
        let ([batch, channels, height, width], [weight_channels, out_per_group, kh, kw]) =
            split_shapes(OP, input, weight, groups)?;
        if weight_channels != channels {
            return Err(mismatch(
                OP,
                format!("weight {weight:?} must be [C = {channels}, M / groups, kH, kW]"),
            ));
        }
        for axis in 0..2 {
            let limit = self.strides[axis].max(self.dilations[axis]);
            if self.output_padding[axis] >= limit {
                return Err(invalid(
                    OP,
                    format!(
                        "output_padding {:?} must be below the stride or the dilation on each axis",
                        self.output_padding
                    ),
                ));
            }
        }
        let output = ConvGeometry::transposed(&self.spec(), input, weight)?.output;
        Ok(ConvDims {
            batch,
            channels,
            input: [height, width],
            out_channels: out_per_group * groups,
            output: [output[0], output[1]],
            kernel: [kh, kw],
            groups,
        })
    }
}

impl ConvTranspose2dParams {
    /// The convolution attributes these parameters share with [`Conv2dParams`].
    fn conv_spec(&self) -> ConvSpec<'_> {
        ConvSpec {
            kernel_shape: &[],
            strides: &self.strides,
            pads: &self.pads,
            dilations: &self.dilations,
            group: self.groups,
            auto_pad: AutoPad::NotSet,
        }
    }

    /// These parameters as the geometry resolver's plain attribute lists.
    pub fn spec(&self) -> TransposeSpec<'_> {
        TransposeSpec {
            conv: self.conv_spec(),
            output_padding: &self.output_padding,
            output_shape: &[],
        }
    }

    /// The 2-D parameters of a resolved transposed `geometry` with `output_padding`, when it has
    /// two spatial axes, no negative pad and each output padding below its stride or dilation.
    pub fn from_geometry(geometry: &ConvGeometry, output_padding: &[usize]) -> Option<Self> {
        let conv = Conv2dParams::from_geometry(geometry)?;
        let output_padding = match *output_padding {
            [] => [0, 0],
            [rows, columns] => [rows, columns],
            _ => return None,
        };
        let fits =
            (0..2).all(|axis| output_padding[axis] < conv.strides[axis].max(conv.dilations[axis]));
        fits.then_some(ConvTranspose2dParams {
            strides: conv.strides,
            pads: conv.pads,
            output_padding,
            dilations: conv.dilations,
            groups: conv.groups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_follow_onnx() {
        let params = Conv2dParams {
            strides: [2, 1],
            pads: [1, 0, 2, 3],
            dilations: [1, 2],
            groups: 2,
        };
        // H: (7 + 3 − 3) / 2 + 1 = 4; W: (9 + 3 − 5) / 1 + 1 = 8.
        assert_eq!(
            params.output_shape(&[3, 4, 7, 9], &[6, 2, 3, 3]).unwrap(),
            [3, 6, 4, 8]
        );
        let transpose = ConvTranspose2dParams {
            strides: [2, 2],
            pads: [1, 1, 1, 1],
            output_padding: [1, 0],
            ..ConvTranspose2dParams::default()
        };
        // 2·(5 − 1) + 1 + 2 + 1 − 2 = 10 and 2·(5 − 1) + 0 + 2 + 1 − 2 = 9.
        assert_eq!(
            transpose
                .output_shape(&[1, 4, 5, 5], &[4, 3, 3, 3])
                .unwrap(),
            [1, 3, 10, 9]
        );
    }

    #[test]
    fn bad_shapes_are_errors() {
        let plain = Conv2dParams::default();
        let grouped = Conv2dParams { groups: 3, ..plain };
        let shape_error = |r: Result<[usize; 4]>| matches!(r, Err(Error::ShapeMismatch { .. }));
        let argument_error =
            |r: Result<[usize; 4]>| matches!(r, Err(Error::InvalidArgument { .. }));
        assert!(shape_error(plain.output_shape(&[1, 4, 5], &[2, 4, 3, 3])));
        assert!(shape_error(
            plain.output_shape(&[1, 4, 5, 5], &[2, 3, 3, 3])
        ));
        assert!(argument_error(
            grouped.output_shape(&[1, 4, 5, 5], &[3, 1, 3, 3])
        ));
        assert!(argument_error(
            grouped.output_shape(&[1, 6, 5, 5], &[4, 2, 3, 3])
        ));
        assert!(argument_error(
            plain.output_shape(&[1, 4, 2, 5], &[2, 4, 3, 3])
        ));
        assert!(argument_error(
            plain.output_shape(&[0, 4, 5, 5], &[2, 4, 3, 3])
        ));
        let zero_stride = Conv2dParams {
            strides: [0, 1],
            ..plain
        };
        assert!(argument_error(
            zero_stride.output_shape(&[1, 4, 5, 5], &[2, 4, 3, 3])
        ));
        let transpose = ConvTranspose2dParams {
            output_padding: [1, 0],
            ..ConvTranspose2dParams::default()
        };
        assert!(argument_error(
            transpose.output_shape(&[1, 4, 5, 5], &[4, 2, 3, 3])
        ));
    }

    #[test]
    fn launcher_parameters_from_a_resolved_geometry() {
        let params = Conv2dParams {
            strides: [2, 1],
            pads: [1, 0, 2, 3],
            dilations: [1, 2],
            groups: 2,
        };
        let geometry = ConvGeometry::forward(&params.spec(), &[3, 4, 7, 9], &[6, 2, 3, 3]).unwrap();
        assert_eq!(Conv2dParams::from_geometry(&geometry), Some(params));
        let transpose = ConvTranspose2dParams {
            strides: [2, 2],
            pads: [1, 1, 1, 1],
            output_padding: [1, 0],
            ..ConvTranspose2dParams::default()
        };
        let x = [1, 4, 5, 5];
        let geometry = ConvGeometry::transposed(&transpose.spec(), &x, &[4, 3, 3, 3]).unwrap();
        let back = ConvTranspose2dParams::from_geometry(&geometry, &[1, 0]);
        assert_eq!(back, Some(transpose));
        assert_eq!(
            ConvTranspose2dParams::from_geometry(&geometry, &[2, 0]),
            None
        );
        let extended = TransposeSpec {
            output_shape: &[12, 12],
            ..transpose.spec()
        };
        let geometry = ConvGeometry::transposed(&extended, &x, &[4, 3, 3, 3]).unwrap();
        assert_eq!(
            ConvTranspose2dParams::from_geometry(&geometry, &[1, 0]),
            None
        );
    }
}
