//! Convolutions and pools on the GPU backend: the graph's attributes (auto_pad resolved from the
//! input shape) turned into the launchers' parameters. Conv's bias and fused activation go into
//! the kernel's epilogue.

use crate::error::Result;
use crate::graph::infer::{conv_transpose_pads, resolve_auto_pads};
use crate::graph::{ConvAttrs, ConvTransposeAttrs, Op, PoolAttrs};
use crate::ops::conv::{
    conv2d_f16, conv2d_f32, conv2d_q8, conv_transpose2d_f32, Conv2dParams, ConvTranspose2dParams,
    GpuQ8ConvWeights, QLinearQuant,
};
use crate::ops::matmul::int8::Dot4Path;
use crate::ops::pooling::{self, Pool2dOptions};
use crate::runtime::gpu::args::{Args, Constants};
use crate::tensor::{DType, GpuTensor, Q8Weights, TensorData};

/// Runs the convolution or pool `args.node` holds; `None` for other ops.
pub(super) fn eval(args: &Args<'_>) -> Option<Result<GpuTensor>> {
    let result = match &args.node.op {
        Op::Conv(attrs) => conv(args, attrs),
        Op::ConvTranspose(attrs) => conv_transpose(args, attrs),
        Op::QLinearConv(attrs) => {
            q8_conv_weights(args).and_then(|weights| qlinear_conv(args, attrs, &weights))
        }
        Op::MaxPool(attrs) => pool(args, attrs, true),
        Op::AveragePool(attrs) => pool(args, attrs, false),
        Op::GlobalAveragePool => args
            .tensor_of(0, &[DType::F32])
            .and_then(|x| pooling::global_average_pool(args.gpu, x)),
        Op::GlobalMaxPool => args
            .tensor_of(0, &[DType::F32])
            .and_then(|x| pooling::global_max_pool(args.gpu, x)),
        _ => return None,
    };
    Some(result)
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

/// The launcher's parameters for a Conv or QLinearConv of `input_shape` by `weight_shape`.
fn conv_params(
    constants: &Constants<'_>,
    attrs: &ConvAttrs,
    input_shape: &[usize],
    weight_shape: &[usize],
) -> Result<Conv2dParams> {
    let input = spatial(constants, input_shape)?;
    let kernel = spatial(constants, weight_shape)?;
    let attrs = &attrs.with_spatial_defaults(input.len());
    if !attrs.kernel_shape.is_empty() && attrs.kernel_shape != kernel {
        return Err(constants.invalid(format!(
            "kernel_shape {:?} disagrees with the weight's {kernel:?}",
            attrs.kernel_shape
        )));
    }
    let pads = resolve_auto_pads(
        attrs.auto_pad,
        &input,
        &kernel,
        &attrs.strides,
        &attrs.dilations,
        &attrs.pads,
    )?;
    Ok(Conv2dParams {
        strides: pair(constants, &attrs.strides, "strides")?,
        pads: pads4(constants, pads)?,
        dilations: pair(constants, &attrs.dilations, "dilations")?,
        groups: attrs.group,
    })
}

fn conv(args: &Args<'_>, attrs: &ConvAttrs) -> Result<GpuTensor> {
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

fn conv_transpose(args: &Args<'_>, attrs: &ConvTransposeAttrs) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &[DType::F32])?;
    let w = args.tensor_of(1, &[DType::F32])?;
    let bias = args.optional_tensor(2)?;
    let input = spatial(args, x.shape())?;
    let kernel = spatial(args, w.shape())?;
    let attrs = &attrs.with_spatial_defaults(input.len());
    let conv = &attrs.conv;
    let signed_pads = conv_transpose_pads(attrs, &input, &kernel)?;
    let Ok(pads) = signed_pads
        .iter()
        .map(|&pad| usize::try_from(pad))
        .collect()
    else {
        return Err(args.unsupported(format!(
            "output_shape {:?} beyond the full transposed output (pads {signed_pads:?}): the GPU \
             kernel crops only",
            attrs.output_shape
        )));
    };
    let params = ConvTranspose2dParams {
        strides: pair(args, &conv.strides, "strides")?,
        pads: pads4(args, pads)?,
        output_padding: pair(args, &attrs.output_padding, "output_padding")?,
        dilations: pair(args, &conv.dilations, "dilations")?,
        groups: conv.group,
    };
    conv_transpose2d_f32(args.gpu, x, w, bias, &params, conv.activation)
}

/// QLinearConv with int8 input and output, per-tensor input and output quantization, and a
/// constant int8 weight with zero point 0 (per-tensor or per-channel scales), already in the
/// kernel's layout ([`q8_conv_weights`]: a Plan does that once, a bare [`super::eval_node`] per
/// call).
pub(super) fn qlinear_conv(
    args: &Args<'_>,
    attrs: &ConvAttrs,
    weights: &GpuQ8ConvWeights,
) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &[DType::I8])?;
    let scalar =
        |index: usize, what: &str| -> Result<f64> { Ok(args.scalar(index, what)?.unwrap_or(0.0)) };
    let zero_point = |index: usize, what: &str| -> Result<i8> {
        match args.constant(index, what)? {
            None => Ok(0),
            Some(host) if host.dtype() == DType::I8 => Ok(scalar(index, what)? as i8),
            Some(host) => Err(args.unsupported(format!(
                "{} {what} (the GPU's QLinearConv is int8)",
                host.dtype()
            ))),
        }
    };
    let quant = QLinearQuant {
        input_scale: scalar(1, "QLinearConv x_scale")? as f32,
        input_zero_point: zero_point(2, "x_zero_point")?,
        output_scale: scalar(6, "QLinearConv y_scale")? as f32,
        output_zero_point: zero_point(7, "y_zero_point")?,
    };
    let bias = args.optional_tensor(8)?;
    let params = conv_params(args, attrs, x.shape(), &weights.shape())?;
    let path = Dot4Path::preferred(args.gpu);
    conv2d_q8(args.gpu, x, weights, bias, &quant, &params, path)
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

fn pool(args: &Args<'_>, attrs: &PoolAttrs, max: bool) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &[DType::F32, DType::F16])?;
    let input = spatial(args, x.shape())?;
    let pads = resolve_auto_pads(
        attrs.auto_pad,
        &input,
        &attrs.kernel_shape,
        &attrs.strides,
        &attrs.dilations,
        &attrs.pads,
    )?;
    let options = Pool2dOptions {
        kernel: pair(args, &attrs.kernel_shape, "kernel_shape")?,
        strides: pair(args, &attrs.strides, "strides")?,
        pads: pads4(args, pads)?,
        dilations: pair(args, &attrs.dilations, "dilations")?,
        ceil_mode: attrs.ceil_mode,
        count_include_pad: attrs.count_include_pad,
    };
    if max {
        pooling::max_pool2d(args.gpu, x, &options)
    } else {
        pooling::average_pool2d(args.gpu, x, &options)
    }
}
