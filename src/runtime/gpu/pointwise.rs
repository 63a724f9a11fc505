//! Element-wise ops, softmax, reductions, normalizations, Resize and the QDQ pair on the GPU
//! backend. These kernels are f32 (QDQ: f32 against int8, uint8 and int32); their parameters
//! (Clip bounds, reduce axes, BatchNorm statistics, Resize scales or sizes) come from the node's
//! constant inputs.

use crate::error::Result;
use crate::graph::{Op, ResizeAttrs};
use crate::ops::elementwise::{self, BinaryOp};
use crate::ops::normalization::{
    batch_normalization, layer_normalization, BatchNormParams, LayerNormOptions,
};
use crate::ops::quantize::{dequantize_linear, quantize_linear, QdqAttributes};
use crate::ops::reduce::{arg_max, reduce, ReduceKind};
use crate::ops::resize::{resize, ResizeOptions, ResizeTarget};
use crate::ops::softmax::{log_softmax, softmax};
use crate::runtime::gpu::args::Args;
use crate::runtime::gpu::layout::{copy, view};
use crate::tensor::shape::normalize_axis;
use crate::tensor::{DType, GpuTensor};

const F32: [DType; 1] = [DType::F32];

/// Runs the op `args.node` holds when it belongs here; `None` otherwise.
pub(super) fn eval(args: &Args<'_>) -> Option<Result<GpuTensor>> {
    let gpu = args.gpu;
    let result = match &args.node.op {
        Op::Unary(op) => args
            .tensor_of(0, &F32)
            .and_then(|x| elementwise::unary(gpu, *op, x)),
        Op::Binary(op) => args.tensor_of(0, &F32).and_then(|a| {
            let b = args.tensor_of(1, &F32)?;
            elementwise::binary(gpu, *op, a, b)
        }),
        Op::Variadic(op) => variadic(args, *op),
        Op::Clip => clip(args),
        Op::Where => args.tensor_of(0, &[DType::U8]).and_then(|condition| {
            let x = args.tensor_of(1, &F32)?;
            let y = args.tensor_of(2, &F32)?;
            elementwise::select(gpu, condition, x, y)
        }),
        Op::Softmax { axis, coerce_2d } => softmax_like(args, *axis, *coerce_2d, false),
        Op::LogSoftmax { axis, coerce_2d } => softmax_like(args, *axis, *coerce_2d, true),
        Op::Reduce {
            kind,
            keepdims,
            noop_with_empty_axes,
        } => reduction(args, *kind, *keepdims, *noop_with_empty_axes),
        Op::ArgMax {
            axis,
            keepdims,
            select_last_index,
        } => args
            .tensor_of(0, &F32)
            .and_then(|x| arg_max(gpu, x, *axis, *keepdims, *select_last_index)),
        Op::BatchNormalization { epsilon } => batch_norm(args, *epsilon),
        Op::LayerNormalization { axis, epsilon } => args.tensor_of(0, &F32).and_then(|x| {
            let scale = args.tensor(1)?;
            let bias = args.optional_tensor(2)?;
            let options = LayerNormOptions {
                axis: *axis,
                epsilon: *epsilon,
            };
            layer_normalization(gpu, x, scale, bias, &options)
        }),
        Op::Resize(attrs) => resize_node(args, attrs),
        Op::QuantizeLinear { axis, .. } => args.tensor_of(0, &F32).and_then(|x| {
            let scale = args.tensor(1)?;
            let zero_point = args.optional_tensor(2)?;
            quantize_linear(gpu, x, scale, zero_point, &qdq(*axis), None)
        }),
        Op::DequantizeLinear { axis } => args
            .tensor_of(0, &[DType::I8, DType::U8, DType::I32])
            .and_then(|x| {
                let scale = args.tensor(1)?;
                let zero_point = args.optional_tensor(2)?;
                dequantize_linear(gpu, x, scale, zero_point, &qdq(*axis))
            }),
        _ => return None,
    };
    Some(result)
}

fn qdq(axis: i64) -> QdqAttributes {
    QdqAttributes {
        axis,
        block_size: 0,
    }
}

/// Sum, Min and Max over any number of inputs; one input is returned as a copy.
fn variadic(args: &Args<'_>, op: BinaryOp) -> Result<GpuTensor> {
    let inputs = (0..args.len())
        .map(|index| args.tensor_of(index, &F32))
        .collect::<Result<Vec<_>>>()?;
    let (first, rest) = inputs
        .split_first()
        .ok_or_else(|| args.invalid("needs at least one input".into()))?;
    match op {
        BinaryOp::Min => elementwise::min(args.gpu, &inputs),
        BinaryOp::Max => elementwise::max(args.gpu, &inputs),
        _ if rest.is_empty() => copy(args.gpu, first),
        _ => {
            let mut folded = elementwise::binary(args.gpu, op, first, rest[0])?;
            for input in &rest[1..] {
                folded = elementwise::binary(args.gpu, op, &folded, input)?;
            }
            Ok(folded)
        }
    }
}

fn clip(args: &Args<'_>) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &F32)?;
    let min = args.scalar(1, "Clip min")?.map(|value| value as f32);
    let max = args.scalar(2, "Clip max")?.map(|value| value as f32);
    elementwise::clip(args.gpu, x, min, max)
}

/// Softmax or LogSoftmax; opset < 13's `coerce_2d` normalises over every axis from `axis` on,
/// which runs as the last axis of a 2-D view.
fn softmax_like(args: &Args<'_>, axis: i64, coerce_2d: bool, log: bool) -> Result<GpuTensor> {
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

fn reduction(
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
    reduce(args.gpu, kind, x, &axes, keepdims)
}

fn batch_norm(args: &Args<'_>, epsilon: f32) -> Result<GpuTensor> {
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
fn resize_node(args: &Args<'_>, attrs: &ResizeAttrs) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &F32)?;
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
