//! Reductions and normalisations: ReduceSum/Mean/Max (axes attribute before opset 13 for Sum,
//! 18 for the others, synthesised as an input), ArgMax, Softmax and LogSoftmax (opset < 13:
//! 2-D coercion, axis 1 by default), BatchNormalization and LayerNormalization (inference only),
//! LRN.

use super::{Converter, NodeContext};
use crate::error::Result;
use crate::graph::Op;
use crate::ops::normalization::LrnAttrs;
use crate::ops::reduce::ReduceKind;

/// ReduceSum, ReduceMean, ReduceMax.
pub(super) fn reduce(ctx: &mut NodeContext) -> Result<Op> {
    let (kind, axes_input_since) = match ctx.op_type {
        "ReduceSum" => (ReduceKind::Sum, 13),
        "ReduceMean" => (ReduceKind::Mean, 18),
        _ => (ReduceKind::Max, 18),
    };
    if ctx.opset >= axes_input_since {
        ctx.expect_inputs(1, 2)?;
    } else {
        ctx.expect_inputs(1, 1)?;
        ctx.ints_attribute_to_input("axes", 1)?;
    }
    Ok(Op::Reduce {
        kind,
        keepdims: ctx.attrs.bool_or("keepdims", true)?,
        noop_with_empty_axes: ctx.attrs.bool_or("noop_with_empty_axes", false)?,
    })
}

/// ArgMax.
pub(super) fn arg_max(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    Ok(Op::ArgMax {
        axis: ctx.attrs.int_or("axis", 0)?,
        keepdims: ctx.attrs.bool_or("keepdims", true)?,
        select_last_index: ctx.attrs.bool_or("select_last_index", false)?,
    })
}

/// Softmax, LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis`; when `axis` is
/// the last axis of an input of known rank, that is the same as normalising along `axis` alone,
/// so the op is held in the opset-13 form, which exports to one ONNX node and imports back the
/// same.
pub(super) fn softmax(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    let old_form = ctx.opset < 13;
    let axis = ctx.attrs.int_or("axis", if old_form { 1 } else { -1 })?;
    let last_axis = ctx
        .known_rank(0)
        .is_some_and(|rank| axis == -1 || usize::try_from(axis).is_ok_and(|axis| axis + 1 == rank));
    let coerce_2d = old_form && !last_axis;
    Ok(if ctx.op_type == "Softmax" {
        Op::Softmax { axis, coerce_2d }
    } else {
        Op::LogSoftmax { axis, coerce_2d }
    })
}

/// BatchNormalization in inference mode (`spatial` = 1 before opset 9, `training_mode` = 0).
pub(super) fn batch_norm(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(5, 5)?;
    super::legacy::reject_training_mode(ctx)?;
    if ctx.opset < 9 && !ctx.attrs.bool_or("spatial", true)? {
        return Err(ctx
            .attrs
            .unsupported("spatial", "is 0; kiln normalises per channel only".into()));
    }
    if ctx.attrs.bool_or("training_mode", false)? {
        return Err(ctx.attrs.unsupported(
            "training_mode",
            "is 1; kiln runs BatchNormalization in inference only".into(),
        ));
    }
    Ok(Op::BatchNormalization {
        epsilon: ctx.attrs.float_or("epsilon", 1e-5)?,
    })
}

/// LayerNormalization (the mean and inverse-std-dev outputs must be unread).
pub(super) fn layer_norm(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 3)?;
    Ok(Op::LayerNormalization {
        axis: ctx.attrs.int_or("axis", -1)?,
        epsilon: ctx.attrs.float_or("epsilon", 1e-5)?,
    })
}

/// LRN: `size` is required; `alpha`, `beta` and `bias` default to 1e-4, 0.75 and 1.
pub(super) fn lrn(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    if !ctx.attrs.has("size") {
        return Err(ctx.attrs.invalid("size", "is required".into()));
    }
    Ok(Op::Lrn(LrnAttrs {
        size: ctx.attrs.count_or("size", 1, 1)?,
        alpha: ctx.attrs.float_or("alpha", 1e-4)?,
        beta: ctx.attrs.float_or("beta", 0.75)?,
        bias: ctx.attrs.float_or("bias", 1.0)?,
    }))
}

/// The normalization family's converter of `op_type`.
pub(super) fn normalization_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "BatchNormalization" => batch_norm,
        "LayerNormalization" => layer_norm,
        "LRN" => lrn,
        "Softmax" | "LogSoftmax" => softmax,
        _ => return None,
    })
}

/// The reduction family's converter of `op_type`.
pub(super) fn reduce_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "ReduceSum" | "ReduceMean" | "ReduceMax" => reduce,
        "ArgMax" => arg_max,
        _ => return None,
    })
}
