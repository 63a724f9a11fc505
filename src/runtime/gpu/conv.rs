//! Convolutions and pools on the GPU backend: the graph's attributes resolved by the ops' geometry
//! resolver (auto_pad from the input shape) into the launchers' parameters. Conv's bias and fused activation go into
//! the kernel's epilogue.

use crate::error::Result;
use crate::graph::{ConvAttrs, ConvTransposeAttrs, PoolAttrs};
use crate::ops::conv::geometry::{resolve_auto_pads, ConvGeometry};
use crate::ops::conv::{
    conv2d_f16, conv2d_f32, conv2d_q8_with, conv_transpose2d_f32, Conv2dParams,
    ConvTranspose2dParams, GpuQ8ConvWeights, Q8ConvEpilogue, QLinearQuant,
};
use crate::ops::matmul::int8::Dot4Path;
use crate::ops::pooling::{self, Pool2dOptions};
use crate::ops::Activation;
use crate::runtime::gpu::args::{Args, Constants};
use crate::tensor::{DType, GpuTensor, Q8Weights, TensorData};

/// GlobalAveragePool or GlobalMaxPool (`max`) of an f32 NCHW tensor.
pub(super) fn global_pool(args: &Args<'_>, max: bool) -> Result<GpuTensor> {
    let dtypes: &[DType] = if max {
        &[DType::F32, DType::I8, DType::U8]
    } else {
        &[DType::F32]
    };
    let x = args.tensor_of(0, dtypes)?;
    if max {
        pooling::global_max_pool(args.gpu, x)
    } else {
        pooling::global_average_pool(args.gpu, x)
    }
}

/// `[H, W]` of an NCHW shape, or Unsupported for other ranks (kiln runs 2-D convolutions).
fn spatial(constants: &Constants<'_>, shape: &[usize]) -> Result<[usize; 2]> {
    match *shape {
        [_, _, height, width] => Ok([height, width]),
        _ => Err(constants.unsupported(format!(
            "input of shape {shape:?}: the GPU runs 2-D (NCHW) convolutions and pools only"
        ))),
    }
}

/// A 2-entry attribute list as an array, or an invalid-model error naming it.
fn pair(constants: &Constants<'_>, values: &[usize], what: &str) -> Result<[usize; 2]> {
    <[usize; 2]>::try_from(values)
        .map_err(|_| constants.invalid(format!("{what} {values:?} must have 2 entries")))
}

/// Resolved pads (all begins, then all ends) as the launchers' `[top, left, bottom, right]`.
fn pads4(constants: &Constants<'_>, pads: Vec<usize>) -> Result<[usize; 4]> {
    <[usize; 4]>::try_from(pads.as_slice())
        .map_err(|_| constants.invalid(format!("pads {pads:?} must have 4 entries")))
}

/// The launcher's parameters for a Conv or QLinearConv of `input_shape` by `weight_shape`,
/// resolved by the ops' geometry resolver.
fn conv_params(
    constants: &Constants<'_>,
    attrs: &ConvAttrs,
    input_shape: &[usize],
    weight_shape: &[usize],
) -> Result<Conv2dParams> {
    spatial(constants, input_shape)?;
    let geometry = ConvGeometry::forward(&attrs.spec(), input_shape, weight_shape)?;
    Conv2dParams::from_geometry(&geometry).ok_or_else(|| {
        constants.invalid(format!(
            "the 2-D convolution launcher cannot take geometry {geometry:?}"
        ))
    })
}

/// Conv of f32 or f16, bias and fused activation in the epilogue.
pub(super) fn conv(args: &Args<'_>, attrs: &ConvAttrs) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &[DType::F32, DType::F16])?;
    let w = args.tensor_of(1, &[x.dtype()])?;
    let bias = args.optional_tensor(2)?;
    if let Some(bias) = bias {
        args.check_dtype(bias.dtype(), &[DType::F32])?;
    }
    let params = conv_params(args, attrs, x.shape(), w.shape())?;
    match x.dtype() {
        DType::F16 => conv2d_f16(args.gpu, x, w, bias, &params, attrs.activation),
        _ => conv2d_f32(args.gpu, x, w, bias, &params, attrs.activation),
    }
}

/// ConvTranspose of f32.
pub(super) fn conv_transpose(args: &Args<'_>, attrs: &ConvTransposeAttrs) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &[DType::F32])?;
    let w = args.tensor_of(1, &[DType::F32])?;
    let bias = args.optional_tensor(2)?;
    spatial(args, x.shape())?;
    let geometry = ConvGeometry::transposed(&attrs.spec(), x.shape(), w.shape())?;
    let Some(params) = ConvTranspose2dParams::from_geometry(&geometry, &attrs.output_padding)
    else {
        return Err(args.unsupported(format!(
            "output_shape {:?} or output_padding {:?} beyond the full transposed output (pads \
             {:?}, {:?}): the GPU kernel crops only",
            attrs.output_shape, attrs.output_padding, geometry.pads_begin, geometry.pads_end
        )));
    };
    conv_transpose2d_f32(args.gpu, x, w, bias, &params, attrs.conv.activation)
}

/// QLinearConv with int8 or uint8 input and output, per-tensor input and output quantization, a
/// constant int8 weight with zero point 0 (per-tensor or per-channel scales), already in the
/// kernel's layout ([`q8_conv_weights`]: a Plan does that once, a bare [`super::eval_node`] per
/// call), and an optional fused Relu (from the QDQ lowering).
pub(super) fn qlinear_conv(
    args: &Args<'_>,
    attrs: &ConvAttrs,
    weights: &GpuQ8ConvWeights,
) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &[DType::I8, DType::U8])?;
    let scalar =
        |index: usize, what: &str| -> Result<f64> { Ok(args.scalar(index, what)?.unwrap_or(0.0)) };
    // The kernel's zero points are int8: a uint8 one is shifted by −128 with its data.
    let zero_point = |index: usize, what: &str| -> Result<(i8, DType)> {
        match args.constant(index, what)? {
            None => Ok((-128, DType::U8)),
            Some(host) if host.dtype() == DType::I8 => Ok((scalar(index, what)? as i8, DType::I8)),
            Some(host) if host.dtype() == DType::U8 => {
                Ok(((scalar(index, what)? as i32 - 128) as i8, DType::U8))
            }
            Some(host) => Err(args.unsupported(format!(
                "{} {what} (the GPU's QLinearConv is int8 or uint8)",
                host.dtype()
            ))),
        }
    };
    let (input_zero_point, input) = zero_point(2, "x_zero_point")?;
    let (output_zero_point, output) = zero_point(7, "y_zero_point")?;
    if input != x.dtype() {
        return Err(args.invalid(format!("x is {} but x_zero_point {input}", x.dtype())));
    }
    let relu = match attrs.activation {
        Activation::Identity => false,
        Activation::Relu => true,
        other => return Err(args.unsupported(format!("QLinearConv with a fused {other:?}"))),
    };
    let quant = QLinearQuant {
        input_scale: scalar(1, "QLinearConv x_scale")? as f32,
        input_zero_point,
        output_scale: scalar(6, "QLinearConv y_scale")? as f32,
        output_zero_point,
    };
    let bias = args.optional_tensor(8)?;
    let params = conv_params(args, attrs, x.shape(), &weights.shape())?;
    let path = Dot4Path::preferred(args.gpu);
    let epilogue = Q8ConvEpilogue {
        input,
        output,
        relu,
    };
    conv2d_q8_with(
        args.gpu,
        (x, weights, bias),
        &quant,
        &params,
        path,
        epilogue,
    )
}

/// QLinearConv's constant weight (input 3) with its scales (4) and zero points (5) as the int8
/// kernel's per-output-channel layout.
pub(super) fn q8_conv_weights(args: &Args<'_>) -> Result<GpuQ8ConvWeights> {
    let weight = args
        .constant(3, "QLinearConv weight")?
        .ok_or_else(|| args.invalid("the weight is required".into()))?;
    let TensorData::I8(values) = weight.data() else {
        return Err(args.unsupported(format!(
            "{} QLinearConv weights (the GPU kernel takes int8)",
            weight.dtype()
        )));
    };
    let shape = <[usize; 4]>::try_from(weight.shape())
        .map_err(|_| args.unsupported("a weight that is not 4-D".into()))?;
    let channels = shape[0];
    let scales = args.floats(4, "QLinearConv w_scale")?.unwrap_or_default();
    let scales = match scales.len() {
        1 => vec![scales[0]; channels],
        count if count == channels => scales,
        count => return Err(args.invalid(format!("{count} weight scales for {channels} channels"))),
    };
    if let Some(zero_points) = args.ints(5, "w_zero_point")? {
        if zero_points.iter().any(|&zero| zero != 0) {
            return Err(args.unsupported("nonzero weight zero points".into()));
        }
    }
    let k = shape[1] * shape[2] * shape[3];
    let q8 = Q8Weights::from_parts(channels, k, values, scales, vec![0; channels])?;
    GpuQ8ConvWeights::upload(args.gpu, &q8, shape)
}

/// MaxPool (`max`; f32, f16, int8 or uint8) or AveragePool (f32 or f16).
pub(super) fn pool(args: &Args<'_>, attrs: &PoolAttrs, max: bool) -> Result<GpuTensor> {
    let dtypes: &[DType] = if max {
        &[DType::F32, DType::F16, DType::I8, DType::U8]
    } else {
        &[DType::F32, DType::F16]
    };
    let x = args.tensor_of(0, dtypes)?;
    let options = pool_options(args, attrs, x.shape())?;
    if max {
        pooling::max_pool2d(args.gpu, x, &options)
    } else {
        pooling::average_pool2d(args.gpu, x, &options)
    }
}

/// The 2-D window of a pool with `attrs` over an NCHW input of `shape`, after `auto_pad`.
pub(super) fn pool_options(
    args: &Args<'_>,
    attrs: &PoolAttrs,
    shape: &[usize],
) -> Result<Pool2dOptions> {
    let input = spatial(args, shape)?;
    let pads = resolve_auto_pads(
        attrs.auto_pad,
        &input,
        &attrs.kernel_shape,
        &attrs.strides,
        &attrs.dilations,
        &attrs.pads,
    )?;
    Ok(Pool2dOptions {
        kernel: pair(args, &attrs.kernel_shape, "kernel_shape")?,
        strides: pair(args, &attrs.strides, "strides")?,
        pads: pads4(args, pads)?,
        dilations: pair(args, &attrs.dilations, "dilations")?,
        ceil_mode: attrs.ceil_mode,
        count_include_pad: attrs.count_include_pad,
    })
}
