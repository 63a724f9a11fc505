//! Depthwise int8 convolution with ONNX `QLinearConv` semantics on the GPU
//! (`shaders/conv_depthwise_q8.wgsl`): a direct kernel for `groups == C` (one input channel per
//! group, any channel multiplier `M / C`), where the implicit GEMM of [`super::int8`] would fill
//! one row of its 64-row tiles. Its requantization is the GEMM kernel's own WGSL, so the result
//! matches [`reference_conv2d_q8`](super::reference_conv2d_q8) exactly. [`super::conv2d_q8_with`]
//! takes this kernel wherever [`depthwise_q8_fits`] holds.

use crate::device::{Binding, Gpu};
use crate::error::{Error, Result};
use crate::ops::conv::int8::{check_operands, check_q8_dtypes, GpuQ8ConvWeights, Q8ConvEpilogue};
use crate::ops::conv::params::ConvDims;
use crate::ops::conv::programs::CONV2D_DEPTHWISE_Q8;
use crate::ops::conv::reference_q8::{requantize_multipliers, QLinearQuant};
use crate::ops::conv::uniform::ConvUniform;
use crate::ops::conv::Conv2dParams;
use crate::ops::matmul::int8::Dot4Path;
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::{DType, GpuTensor};

/// The most kernel taps (`kH·kW`) the depthwise int8 kernel stages in workgroup memory
/// (`MAX_TAPS` in `shaders/conv_depthwise_q8.wgsl`, one per thread of a workgroup).
pub const DEPTHWISE_Q8_MAX_TAPS: usize = 64;
/// Output pixels of one plane that one workgroup computes (`TILE_PIXELS` in the shader).
const TILE_PIXELS: usize = 256;

/// Whether the depthwise int8 kernel can run `dims`: one input channel per group
/// (`groups == C`, any multiplier `M / C`) and at most [`DEPTHWISE_Q8_MAX_TAPS`] taps.
pub fn depthwise_q8_fits(dims: &ConvDims) -> bool {
    dims.groups == dims.channels && dims.kernel[0] * dims.kernel[1] <= DEPTHWISE_Q8_MAX_TAPS
}

/// `Q8DepthwiseParams` in `conv_depthwise_q8.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Q8DepthwiseParams {
    k_words: u32,
    x_zero_point: i32,
    y_zero_point: i32,
    padding: u32,
}

/// [`super::conv2d_q8_with`] on the depthwise kernel: the same operands, checks and result. A
/// convolution it cannot run ([`depthwise_q8_fits`] false) is an [`Error::InvalidArgument`].
pub fn conv2d_q8_depthwise(
    gpu: &Gpu,
    (x, w, bias): (&GpuTensor, &GpuQ8ConvWeights, Option<&GpuTensor>),
    quant: &QLinearQuant,
    params: &Conv2dParams,
    epilogue: Q8ConvEpilogue,
) -> Result<GpuTensor> {
    const OP: &str = "conv2d_q8_depthwise";
    check_q8_dtypes(OP, epilogue)?;
    let operands = (x, w, bias);
    let input = epilogue.input;
    // The kernel uses no dot4 product; the unpacked path's check needs no device feature.
    let (dims, _) = check_operands(OP, gpu, operands, quant, params, Dot4Path::Unpacked, input)?;
    if !depthwise_q8_fits(&dims) {
        return Err(Error::InvalidArgument {
            op: OP,
            detail: format!(
                "needs groups == channels and at most {DEPTHWISE_Q8_MAX_TAPS} taps, got {} \
                 groups of {} channels with a {:?} kernel",
                dims.groups, dims.channels, dims.kernel
            ),
        });
    }
    launch(gpu, operands, quant, params, epilogue, &dims)
}

/// Records the depthwise kernel on checked operands.
pub(super) fn launch(
    gpu: &Gpu,
    (x, w, bias): (&GpuTensor, &GpuQ8ConvWeights, Option<&GpuTensor>),
    quant: &QLinearQuant,
    params: &Conv2dParams,
    epilogue: Q8ConvEpilogue,
    dims: &ConvDims,
) -> Result<GpuTensor> {
    let geometry = ConvUniform::new(dims, params.strides, params.pads, params.dilations)?;
    let taps = dims.kernel[0] * dims.kernel[1];
    let depthwise_params = Q8DepthwiseParams {
        k_words: to_u32("depthwise int8 conv K words", taps.div_ceil(4))?,
        x_zero_point: i32::from(quant.input_zero_point),
        y_zero_point: i32::from(quant.output_zero_point),
        padding: 0,
    };
    let multipliers = requantize_multipliers(quant, w.scales());
    let multipliers = gpu.upload_bytes(bytemuck::cast_slice(&multipliers))?;
    let whole_words = dims.out_pixels().is_multiple_of(4);
    let y = GpuTensor::uninit(gpu, &dims.output_shape(), epilogue.output)?;
    if !whole_words {
        gpu.clear(y.buffer());
    }
    let flag = |on: bool| f64::from(u8::from(on));
    let constants = [
        ("HAS_BIAS", flag(bias.is_some())),
        ("WHOLE_WORDS", flag(whole_words)),
        ("INPUT_U8", flag(epilogue.input == DType::U8)),
        ("OUTPUT_U8", flag(epilogue.output == DType::U8)),
        ("RELU", flag(epilogue.relu)),
    ];
    let pipeline = gpu.pipeline(&CONV2D_DEPTHWISE_Q8, &constants)?;
    let bindings = [
        (0, Binding::Storage(x.buffer())),
        (1, Binding::Storage(w.weight_words())),
        (
            2,
            bias.map_or(Binding::Unused, |bias| Binding::Storage(bias.buffer())),
        ),
        (3, Binding::Storage(y.buffer())),
        (4, Binding::Uniform(bytemuck::bytes_of(&depthwise_params))),
        (5, Binding::Uniform(bytemuck::bytes_of(&geometry))),
        (7, Binding::Storage(&multipliers)),
    ];
    let workgroups = [
        to_u32(
            "depthwise int8 conv pixel tiles",
            dims.out_pixels().div_ceil(TILE_PIXELS),
        )?,
        to_u32("depthwise int8 conv planes", dims.batch * dims.out_channels)?,
        1,
    ];
    gpu.dispatch(&pipeline, &bindings, workgroups)?;
    Ok(y)
}
