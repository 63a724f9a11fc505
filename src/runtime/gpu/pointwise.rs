//! Element-wise ops, softmax, reductions, normalizations, Resize and the QDQ pair on the GPU
//! backend. These kernels are f32 (QDQ: f32 against int8, uint8 and int32); their parameters
//! (Clip bounds, reduce axes, BatchNorm statistics, Resize scales or sizes) come from the node's
//! constant inputs.

use crate::error::Result;
use crate::graph::ResizeAttrs;
use crate::ops::elementwise::{self, BinaryOp, UnaryOp, VariadicOp};
use crate::ops::normalization::{
    batch_normalization, layer_normalization, BatchNormParams, LayerNormOptions,
};
use crate::ops::quantize::{dequantize_linear, quantize_linear, QdqAttributes};
use crate::ops::reduce::{self, ReduceKind};
use crate::ops::resize::{resize, ResizeMode, ResizeOptions, ResizeTarget};
use crate::ops::softmax::{log_softmax, softmax};
use crate::runtime::gpu::args::Args;
use crate::runtime::gpu::layout::{copy, view};
use crate::tensor::shape::normalize_axis;
use crate::tensor::{DType, GpuTensor};

const F32: [DType; 1] = [DType::F32];

/// A unary op or activation of an f32 tensor.
pub(super) fn unary(args: &Args<'_>, op: UnaryOp) -> Result<GpuTensor> {
    elementwise::unary(args.gpu, op, args.tensor_of(0, &F32)?)
}

/// A broadcast binary op of two f32 tensors.
pub(super) fn binary(args: &Args<'_>, op: BinaryOp) -> Result<GpuTensor> {
    let a = args.tensor_of(0, &F32)?;
    let b = args.tensor_of(1, &F32)?;
    elementwise::binary(args.gpu, op, a, b)
}

/// Where: a u8 condition choosing between two f32 tensors.
pub(super) fn select(args: &Args<'_>) -> Result<GpuTensor> {
    let condition = args.tensor_of(0, &[DType::U8])?;
    let x = args.tensor_of(1, &F32)?;
    let y = args.tensor_of(2, &F32)?;
    elementwise::select(args.gpu, condition, x, y)
}

/// ArgMax along `axis`: i32 indices.
pub(super) fn arg_max(
    args: &Args<'_>,
    axis: i64,
    keepdims: bool,
    select_last_index: bool,
) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &F32)?;
    reduce::arg_max(args.gpu, x, axis, keepdims, select_last_index)
}

/// LayerNormalization `(x, scale, bias?)`.
pub(super) fn layer_norm(args: &Args<'_>, axis: i64, epsilon: f32) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &F32)?;
    let scale = args.tensor(1)?;
    let bias = args.optional_tensor(2)?;
    let options = LayerNormOptions { axis, epsilon };
    layer_normalization(args.gpu, x, scale, bias, &options)
}

/// QuantizeLinear `(x, y_scale, y_zero_point?)` of an f32 tensor.
pub(super) fn quantize(args: &Args<'_>, axis: i64) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &F32)?;
    let scale = args.tensor(1)?;
    let zero_point = args.optional_tensor(2)?;
    quantize_linear(args.gpu, x, scale, zero_point, &qdq(axis), None)
}

/// DequantizeLinear `(x, x_scale, x_zero_point?)` of an i8, u8 or i32 tensor.
pub(super) fn dequantize(args: &Args<'_>, axis: i64) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &[DType::I8, DType::U8, DType::I32])?;
    let scale = args.tensor(1)?;
    let zero_point = args.optional_tensor(2)?;
    dequantize_linear(args.gpu, x, scale, zero_point, &qdq(axis))
}

fn qdq(axis: i64) -> QdqAttributes {
    QdqAttributes {
        axis,
        block_size: 0,
    }
}

/// Sum, Min and Max over any number of inputs; one input is returned as a copy.
pub(super) fn variadic(args: &Args<'_>, op: VariadicOp) -> Result<GpuTensor> {
    let inputs = (0..args.len())
        .map(|index| args.tensor_of(index, &F32))
        .collect::<Result<Vec<_>>>()?;
    let (first, rest) = inputs
        .split_first()
        .ok_or_else(|| args.invalid("needs at least one input".into()))?;
    match op {
        VariadicOp::Min => elementwise::min(args.gpu, &inputs),
        VariadicOp::Max => elementwise::max(args.gpu, &inputs),
        VariadicOp::Sum if rest.is_empty() => copy(args.gpu, first),
        VariadicOp::Sum => {
            let mut folded = elementwise::binary(args.gpu, BinaryOp::Add, first, rest[0])?;
            for input in &rest[1..] {
                folded = elementwise::binary(args.gpu, BinaryOp::Add, &folded, input)?;
            }
            Ok(folded)
        }
    }
}

/// Clip with constant bounds.
pub(super) fn clip(args: &Args<'_>) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &F32)?;
    let min = args.scalar(1, "Clip min")?.map(|value| value as f32);
    let max = args.scalar(2, "Clip max")?.map(|value| value as f32);
    elementwise::clip(args.gpu, x, min, max)
}

/// Softmax or LogSoftmax; opset < 13's `coerce_2d` normalises over every axis from `axis` on,
/// which runs as the last axis of a 2-D view.
pub(super) fn softmax_like(
    args: &Args<'_>,
    axis: i64,
    coerce_2d: bool,
    log: bool,
) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &F32)?;
    let rank = x.shape().len();
    let run = |tensor: &GpuTensor, axis: i64| {
        if log {
            log_softmax(args.gpu, tensor, axis)
        } else {
            softmax(args.gpu, tensor, axis)
        }
    };
    let first = normalize_axis("Softmax", axis, rank)?;
    if !coerce_2d || first + 1 >= rank {
        return run(x, axis);
    }
    let outer: usize = x.shape()[..first].iter().product();
    let inner: usize = x.shape()[first..].iter().product();
    let flat = view(args.gpu, x, &[outer, inner])?;
    run(flat.get(), 1)?.reshape(x.shape())
}

/// ReduceSum, ReduceMean or ReduceMax over constant axes.
pub(super) fn reduction(
    args: &Args<'_>,
    kind: ReduceKind,
    keepdims: bool,
    noop_with_empty_axes: bool,
) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &F32)?;
    let axes = args.ints(1, "Reduce axes")?.unwrap_or_default();
    if axes.is_empty() && noop_with_empty_axes {
        return copy(args.gpu, x);
    }
    reduce::reduce(args.gpu, kind, x, &axes, keepdims)
}

/// BatchNormalization with constant statistics.
pub(super) fn batch_norm(args: &Args<'_>, epsilon: f32) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &F32)?;
    let statistic = |index: usize, what: &str| -> Result<Vec<f32>> {
        args.floats(index, what)?
            .ok_or_else(|| args.invalid(format!("{what} is required")))
    };
    let params = BatchNormParams {
        scale: statistic(1, "BatchNormalization scale")?,
        bias: statistic(2, "BatchNormalization B")?,
        mean: statistic(3, "BatchNormalization mean")?,
        var: statistic(4, "BatchNormalization var")?,
        epsilon,
    };
    batch_normalization(args.gpu, x, &params)
}

/// Resize over H and W of an NCHW tensor; scales or sizes of N and C must leave them unchanged.
pub(super) fn resize_node(args: &Args<'_>, attrs: &ResizeAttrs) -> Result<GpuTensor> {
    let dtypes: &[DType] = match attrs.mode {
        ResizeMode::Nearest(_) => &[DType::F32, DType::I8, DType::U8],
        ResizeMode::Linear => &F32,
    };
    let x = args.tensor_of(0, dtypes)?;
    let shape = x.shape();
    if shape.len() != 4 {
        return Err(args.unsupported(format!(
            "Resize of a rank-{} tensor (the GPU resizes H and W of NCHW)",
            shape.len()
        )));
    }
    let scales = args.floats(2, "Resize scales")?.filter(|s| !s.is_empty());
    let sizes = args.ints(3, "Resize sizes")?.filter(|s| !s.is_empty());
    let (keeps_batch_and_channels, target) = match (scales, sizes) {
        (Some(scales), None) => {
            let values: Vec<f64> = scales.iter().map(|&s| f64::from(s)).collect();
            let full = per_axis(args, attrs, &values, [1.0; 4])?;
            let target = ResizeTarget::Scales([full[2] as f32, full[3] as f32]);
            (full[..2] == [1.0, 1.0], target)
        }
        (None, Some(sizes)) => {
            let values: Vec<f64> = sizes.iter().map(|&s| s as f64).collect();
            let full = per_axis(args, attrs, &values, [0, 1, 2, 3].map(|a| shape[a] as f64))?;
            let target = ResizeTarget::Sizes([full[2], full[3]].map(|size| size.max(0.0) as usize));
            (full[..2] == [shape[0] as f64, shape[1] as f64], target)
        }
        _ => return Err(args.invalid("exactly one of scales and sizes must be given".into())),
    };
    if !keeps_batch_and_channels {
        return Err(args.unsupported("Resize that changes N or C".into()));
    }
    let options = ResizeOptions {
        mode: attrs.mode,
        coordinates: attrs.coordinates,
        target,
    };
    resize(args.gpu, x, &options)
}

/// Resize's scales or sizes for every axis of a rank-4 input: `values` for the axes `attrs.axes`
/// names (all four when empty), `unchanged` for the others.
fn per_axis(
    args: &Args<'_>,
    attrs: &ResizeAttrs,
    values: &[f64],
    unchanged: [f64; 4],
) -> Result<[f64; 4]> {
    let axes: Vec<usize> = if attrs.axes.is_empty() {
        (0..4).collect()
    } else {
        (attrs.axes.iter())
            .map(|&axis| normalize_axis("Resize", axis, 4))
            .collect::<Result<_>>()?
    };
    if values.len() != axes.len() {
        return Err(args.invalid(format!(
            "{} scales or sizes for axes {axes:?}",
            values.len()
        )));
    }
    let mut full = unchanged;
    for (&axis, &value) in axes.iter().zip(values) {
        full[axis] = value;
    }
    Ok(full)
}
