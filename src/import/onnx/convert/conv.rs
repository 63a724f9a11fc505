//! Conv, ConvTranspose, QLinearConv and the pools. Omitted lists are filled with ONNX's
//! defaults over the spatial rank, which comes from `kernel_shape`, else the weight
//! initializer's rank, else any list the node gives; when none of these tells, the lists stay
//! empty and the backends default them from the input.

use super::{Converter, NodeContext};
use crate::error::Result;
use crate::graph::{AutoPad, ConvAttrs, ConvTransposeAttrs, Op, PoolAttrs};
use crate::import::onnx::attributes::Attributes;
use crate::ops::Activation;

/// Conv: `(x, w, b?)`.
pub(super) fn conv(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 3)?;
    Ok(Op::Conv(conv_attrs(ctx, 1)?))
}

/// QLinearConv: the weight is input 3.
pub(super) fn qlinear_conv(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(8, 9)?;
    Ok(Op::QLinearConv(conv_attrs(ctx, 3)?))
}

/// ConvTranspose: `(x, w, b?)` with `output_padding` and `output_shape`.
pub(super) fn conv_transpose(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 3)?;
    let conv = conv_attrs(ctx, 1)?;
    let rank = (!conv.strides.is_empty()).then_some(conv.strides.len());
    let output_padding = spatial_list(&ctx.attrs, "output_padding", rank, 0, 0)?;
    let output_shape = ctx.attrs.counts("output_shape", 1)?.unwrap_or_default();
    if rank.is_some_and(|rank| !output_shape.is_empty() && output_shape.len() != rank) {
        return Err(ctx.attrs.invalid(
            "output_shape",
            format!(
                "has {} entries for {} spatial axes",
                output_shape.len(),
                conv.strides.len()
            ),
        ));
    }
    Ok(Op::ConvTranspose(ConvTransposeAttrs {
        conv,
        output_padding,
        output_shape,
    }))
}

/// MaxPool (whose `Indices` output must be unread) and AveragePool.
pub(super) fn pool(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    let attrs = &ctx.attrs;
    let kernel_shape = attrs
        .counts("kernel_shape", 1)?
        .filter(|kernel| !kernel.is_empty())
        .ok_or_else(|| attrs.invalid("kernel_shape", "is required".into()))?;
    let rank = Some(kernel_shape.len());
    let pool = PoolAttrs {
        strides: spatial_list(attrs, "strides", rank, 1, 1)?,
        pads: spatial_list(attrs, "pads", rank.map(|rank| 2 * rank), 0, 0)?,
        dilations: spatial_list(attrs, "dilations", rank, 1, 1)?,
        ceil_mode: attrs.bool_or("ceil_mode", false)?,
        count_include_pad: attrs.bool_or("count_include_pad", false)?,
        auto_pad: auto_pad(attrs)?,
        kernel_shape,
    };
    Ok(if ctx.op_type == "MaxPool" {
        Op::MaxPool(pool)
    } else {
        Op::AveragePool(pool)
    })
}

/// GlobalAveragePool, GlobalMaxPool.
pub(super) fn global_pool(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    Ok(if ctx.op_type == "GlobalMaxPool" {
        Op::GlobalMaxPool
    } else {
        Op::GlobalAveragePool
    })
}

/// The convolution attributes, the weight being input `weight_index`.
fn conv_attrs(ctx: &NodeContext, weight_index: usize) -> Result<ConvAttrs> {
    let attrs = &ctx.attrs;
    let kernel_shape = attrs.counts("kernel_shape", 1)?.unwrap_or_default();
    let weight_rank = ctx
        .constant_input(weight_index)
        .and_then(|weight| weight.shape().len().checked_sub(2));
    let rank = spatial_rank(attrs, &kernel_shape, weight_rank)?;
    Ok(ConvAttrs {
        strides: spatial_list(attrs, "strides", rank, 1, 1)?,
        pads: spatial_list(attrs, "pads", rank.map(|rank| 2 * rank), 0, 0)?,
        dilations: spatial_list(attrs, "dilations", rank, 1, 1)?,
        group: attrs.count_or("group", 1, 1)?,
        auto_pad: auto_pad(attrs)?,
        activation: Activation::Identity,
        kernel_shape,
    })
}

/// The spatial rank, from the kernel shape, the weight, or the lists the node gives.
fn spatial_rank(
    attrs: &Attributes,
    kernel_shape: &[usize],
    weight_rank: Option<usize>,
) -> Result<Option<usize>> {
    if !kernel_shape.is_empty() {
        return Ok(Some(kernel_shape.len()));
    }
    if weight_rank.is_some() {
        return Ok(weight_rank);
    }
    for (name, per_axis) in [("strides", 1), ("dilations", 1), ("pads", 2)] {
        if let Some(list) = attrs.ints(name)? {
            return Ok(Some(list.len() / per_axis));
        }
    }
    Ok(None)
}

/// The INTS attribute `name` with `len` entries (when known), each at least `min`; `default`
/// repeated `len` times when absent.
fn spatial_list(
    attrs: &Attributes,
    name: &str,
    len: Option<usize>,
    default: usize,
    min: usize,
) -> Result<Vec<usize>> {
    match attrs.counts(name, min)? {
        Some(list) => match len {
            Some(len) if list.len() != len => {
                Err(attrs.invalid(name, format!("has {} entries, expected {len}", list.len())))
            }
            _ => Ok(list),
        },
        None => Ok(vec![default; len.unwrap_or(0)]),
    }
}

/// `auto_pad`.
fn auto_pad(attrs: &Attributes) -> Result<AutoPad> {
    let value = attrs.string_or("auto_pad", "NOTSET")?;
    match value.as_str() {
        "NOTSET" | "" => Ok(AutoPad::NotSet),
        "SAME_UPPER" => Ok(AutoPad::SameUpper),
        "SAME_LOWER" => Ok(AutoPad::SameLower),
        "VALID" => Ok(AutoPad::Valid),
        _ => Err(attrs.invalid(
            "auto_pad",
            format!("is '{value}'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID"),
        )),
    }
}

/// The convolution family's converter of `op_type`.
pub(super) fn conv_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "Conv" => conv,
        "ConvTranspose" => conv_transpose,
        _ => return None,
    })
}

/// The pooling family's converter of `op_type`.
pub(super) fn pool_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "MaxPool" | "AveragePool" => pool,
        "GlobalAveragePool" | "GlobalMaxPool" => global_pool,
        _ => return None,
    })
}
