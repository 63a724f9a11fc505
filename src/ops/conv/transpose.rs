//! f32 transposed convolution (ONNX `ConvTranspose`) as a gather: each output sums the inputs
//! that map onto it, so every output is written once and nothing races (`shaders/
//! conv_transpose_f32.wgsl`). Reference: [`reference_conv_transpose2d`](super::reference_conv_transpose2d).

use crate::device::{Binding, Gpu};
use crate::error::Result;
use crate::ops::conv::programs::CONV_TRANSPOSE2D_F32;
use crate::ops::conv::uniform::ConvUniform;
use crate::ops::conv::ConvTranspose2dParams;
use crate::ops::matmul::tiled::{self, to_u32};
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

/// Output pixels per workgroup and output channels per thread, as in the shader.
const PIXELS_PER_WORKGROUP: usize = 64;
const CHANNELS_PER_THREAD: usize = 4;

/// `act(conv_transpose(x, w) + bias)` on the GPU: `x` `[N, C, H, W]`, `w` `[C, M/groups, kH,
/// kW]`, `bias` `[M]`, result `[N, M, OH, OW]` ([`ConvTranspose2dParams::output_shape`]).
pub fn conv_transpose2d_f32(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    bias: Option<&GpuTensor>,
    params: &ConvTranspose2dParams,
    activation: Activation,
) -> Result<GpuTensor> {
    const OP: &str = "conv_transpose2d_f32";
    x.expect_dtype(OP, DType::F32)?;
    w.expect_dtype(OP, DType::F32)?;
    let dims = params.dims(x.shape(), w.shape())?;
    tiled::check_bias(OP, bias, dims.out_channels)?;
    let geometry = ConvUniform::new(&dims, params.strides, params.pads, params.dilations)?;
    let y = GpuTensor::uninit(gpu, &dims.output_shape(), DType::F32)?;
    let mut constants = activation.override_constants().to_vec();
    constants.push(("HAS_BIAS", f64::from(u8::from(bias.is_some()))));
    let pipeline = gpu.pipeline(&CONV_TRANSPOSE2D_F32, &constants)?;
    let bindings = [
        (0, Binding::Storage(x.buffer())),
        (1, Binding::Storage(w.buffer())),
        (
            2,
            bias.map_or(Binding::Unused, |bias| Binding::Storage(bias.buffer())),
        ),
        (3, Binding::Storage(y.buffer())),
        (5, Binding::Uniform(bytemuck::bytes_of(&geometry))),
    ];
    let workgroups = [
        to_u32(
            "conv_transpose pixel tiles",
            dims.out_pixels().div_ceil(PIXELS_PER_WORKGROUP),
        )?,
        to_u32(
            "conv_transpose channel tiles",
            dims.out_channels_per_group().div_ceil(CHANNELS_PER_THREAD),
        )?,
        to_u32("conv_transpose images × groups", dims.batch * dims.groups)?,
    ];
    gpu.dispatch(&pipeline, &bindings, workgroups)?;
    Ok(y)
}
