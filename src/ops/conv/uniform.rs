//! The uniform block every conv kernel reads (`ConvGeometry` in `shaders/conv_geometry.wgsl`),
//! built from validated [`ConvDims`] after checking that the kernels' indices fit.

use crate::error::{Error, Result};
use crate::ops::conv::params::ConvDims;
use crate::ops::matmul::tiled::to_u32;

/// `ConvGeometry` in `shaders/conv_geometry.wgsl`: what every conv kernel needs to map output
/// positions to input positions. 20 words, a multiple of 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct ConvUniform {
    batch: u32,
    channels: u32,
    height: u32,
    width: u32,
    out_channels: u32,
    out_height: u32,
    out_width: u32,
    groups: u32,
    channels_per_group: u32,
    out_channels_per_group: u32,
    kernel_height: u32,
    kernel_width: u32,
    stride_height: u32,
    stride_width: u32,
    pad_top: u32,
    pad_left: u32,
    dilation_height: u32,
    dilation_width: u32,
    padding: [u32; 2],
}

impl ConvUniform {
    /// The geometry of `dims` with the given strides, top/left pads and dilations, after checking
    /// that every element index a kernel forms (inputs, outputs, weights) fits in an i32.
    pub(crate) fn new(
        dims: &ConvDims,
        strides: [usize; 2],
        pads: [usize; 4],
        dilations: [usize; 2],
    ) -> Result<Self> {
        let input_len = dims.batch * dims.channels * dims.input[0] * dims.input[1];
        let output_len = dims.batch * dims.out_channels * dims.out_pixels();
        let weight_len =
            dims.out_channels * dims.channels_per_group() * dims.kernel[0] * dims.kernel[1];
        for (what, len) in [
            ("conv input elements", input_len),
            ("conv output elements", output_len),
            ("conv weight elements", weight_len),
        ] {
            let limit = i32::MAX as usize;
            if len > limit {
                return Err(Error::LimitExceeded {
                    what,
                    requested: len as u64,
                    limit: limit as u64,
                });
            }
        }
        Ok(ConvUniform {
            batch: to_u32("conv batch", dims.batch)?,
            channels: to_u32("conv channels", dims.channels)?,
            height: to_u32("conv height", dims.input[0])?,
            width: to_u32("conv width", dims.input[1])?,
            out_channels: to_u32("conv output channels", dims.out_channels)?,
            out_height: to_u32("conv output height", dims.output[0])?,
            out_width: to_u32("conv output width", dims.output[1])?,
            groups: to_u32("conv groups", dims.groups)?,
            channels_per_group: to_u32("conv channels per group", dims.channels_per_group())?,
            out_channels_per_group: to_u32(
                "conv output channels per group",
                dims.out_channels_per_group(),
            )?,
            kernel_height: to_u32("conv kernel height", dims.kernel[0])?,
            kernel_width: to_u32("conv kernel width", dims.kernel[1])?,
            stride_height: to_u32("conv stride", strides[0])?,
            stride_width: to_u32("conv stride", strides[1])?,
            pad_top: to_u32("conv padding", pads[0])?,
            pad_left: to_u32("conv padding", pads[1])?,
            dilation_height: to_u32("conv dilation", dilations[0])?,
            dilation_width: to_u32("conv dilation", dilations[1])?,
            padding: [0; 2],
        })
    }
}
