//! Shape and layout ops: Concat, Split, Slice, Transpose, Pad, Reshape, Flatten, Squeeze,
//! Unsqueeze, Expand, Gather, Shape, ConstantOfShape, Range, Identity, Dropout. Attributes older
//! opsets used for Slice, Pad, Split, Squeeze and Unsqueeze become i64 (or f32) inputs.

use super::{Converter, NodeContext};
use crate::error::Result;
use crate::graph::Op;
use crate::ops::layout::PadMode;
use crate::tensor::{HostTensor, TensorData};

/// Concat: `axis` is required.
pub(super) fn concat(ctx: &mut NodeContext) -> Result<Op> {
    let count = ctx.input_count();
    ctx.expect_inputs(count.max(1), count)?;
    let axis = ctx
        .attrs
        .int("axis")?
        .ok_or_else(|| ctx.attrs.invalid("axis", "is required".into()))?;
    Ok(Op::Concat { axis })
}

/// Split: sizes from the `split` attribute (< 13) or input; with neither, `num_outputs`
/// (opset 18) or, before 18, equal parts, one per output.
pub(super) fn split(ctx: &mut NodeContext) -> Result<Op> {
    let axis = ctx.attrs.int_or("axis", 0)?;
    if ctx.opset < 13 {
        ctx.expect_inputs(1, 1)?;
        ctx.ints_attribute_to_input("split", 1)?;
    } else {
        ctx.expect_inputs(1, 2)?;
    }
    let outputs = ctx.output_count();
    let num_outputs = match ctx.attrs.count_or("num_outputs", 0, 1)? {
        0 if ctx.has_input(1) => None,
        0 => Some(outputs),
        _ if ctx.has_input(1) => {
            return Err(ctx
                .attrs
                .invalid("num_outputs", "is given together with split sizes".into()))
        }
        given if given != outputs => {
            return Err(ctx.attrs.invalid(
                "num_outputs",
                format!("is {given}, but the node has {outputs} outputs"),
            ))
        }
        given => Some(given),
    };
    Ok(Op::Split { axis, num_outputs })
}

/// Slice: opset < 10 `starts`, `ends`, `axes` attributes become inputs.
pub(super) fn slice(ctx: &mut NodeContext) -> Result<Op> {
    if ctx.opset >= 10 {
        ctx.expect_inputs(3, 5)?;
        return Ok(Op::Slice);
    }
    ctx.expect_inputs(1, 1)?;
    for required in ["starts", "ends"] {
        if !ctx.attrs.has(required) {
            return Err(ctx
                .attrs
                .invalid(required, format!("is required at opset {}", ctx.opset)));
        }
    }
    ctx.ints_attribute_to_input("starts", 1)?;
    ctx.ints_attribute_to_input("ends", 2)?;
    ctx.ints_attribute_to_input("axes", 3)?;
    Ok(Op::Slice)
}

/// Transpose: `perm` must be a permutation.
pub(super) fn transpose(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    let Some(perm) = ctx.attrs.counts("perm", 0)? else {
        return Ok(Op::Transpose { perm: None });
    };
    let mut seen = vec![false; perm.len()];
    for &axis in &perm {
        match seen.get_mut(axis) {
            Some(slot) if !*slot => *slot = true,
            _ => {
                return Err(ctx
                    .attrs
                    .invalid("perm", format!("{perm:?} is not a permutation")))
            }
        }
    }
    Ok(Op::Transpose { perm: Some(perm) })
}

/// Pad: opset < 11 `pads` and `value` attributes become inputs; the mode stays an attribute
/// (the constant itself always comes from the input).
pub(super) fn pad(ctx: &mut NodeContext) -> Result<Op> {
    let mode_name = ctx.attrs.string_or("mode", "constant")?;
    let mode = match mode_name.as_str() {
        "constant" => PadMode::Constant(0.0),
        "reflect" => PadMode::Reflect,
        "edge" => PadMode::Edge,
        "wrap" => PadMode::Wrap,
        _ => {
            return Err(ctx.attrs.invalid(
                "mode",
                format!("is '{mode_name}'; expected constant, reflect, edge or wrap"),
            ))
        }
    };
    if ctx.opset >= 11 {
        ctx.expect_inputs(2, 4)?;
        return Ok(Op::Pad { mode });
    }
    ctx.expect_inputs(1, 1)?;
    if !ctx.attrs.has("pads") {
        return Err(ctx
            .attrs
            .invalid("pads", format!("is required at opset {}", ctx.opset)));
    }
    ctx.ints_attribute_to_input("pads", 1)?;
    if let Some(value) = ctx.attrs.float("value")? {
        ctx.add_constant_input(2, "value", HostTensor::from_f32(&[], vec![value])?);
    }
    Ok(Op::Pad { mode })
}

/// Reshape (opset 5+: shape input).
pub(super) fn reshape(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 2)?;
    Ok(Op::Reshape {
        allowzero: ctx.attrs.bool_or("allowzero", false)?,
    })
}

/// Flatten.
pub(super) fn flatten(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    Ok(Op::Flatten {
        axis: ctx.attrs.int_or("axis", 1)?,
    })
}

/// Squeeze: opset < 13 `axes` attribute becomes the input.
pub(super) fn squeeze(ctx: &mut NodeContext) -> Result<Op> {
    if ctx.opset >= 13 {
        ctx.expect_inputs(1, 2)?;
    } else {
        ctx.expect_inputs(1, 1)?;
        ctx.ints_attribute_to_input("axes", 1)?;
    }
    Ok(Op::Squeeze)
}

/// Unsqueeze: opset < 13 `axes` attribute (required) becomes the input.
pub(super) fn unsqueeze(ctx: &mut NodeContext) -> Result<Op> {
    if ctx.opset >= 13 {
        ctx.expect_inputs(2, 2)?;
        return Ok(Op::Unsqueeze);
    }
    ctx.expect_inputs(1, 1)?;
    if !ctx.attrs.has("axes") {
        return Err(ctx
            .attrs
            .invalid("axes", format!("is required at opset {}", ctx.opset)));
    }
    ctx.ints_attribute_to_input("axes", 1)?;
    Ok(Op::Unsqueeze)
}

/// Expand.
pub(super) fn expand(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 2)?;
    Ok(Op::Expand)
}

/// Gather.
pub(super) fn gather(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 2)?;
    Ok(Op::Gather {
        axis: ctx.attrs.int_or("axis", 0)?,
    })
}

/// Shape (opset 15 `start` and `end`).
pub(super) fn shape(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    Ok(Op::Shape {
        start: ctx.attrs.int_or("start", 0)?,
        end: ctx.attrs.int("end")?,
    })
}

/// ConstantOfShape: `value` is a one-element tensor, f32 zero by default.
pub(super) fn constant_of_shape(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    let value = match ctx.attrs.tensor("value")? {
        Some(proto) => ctx.decode_tensor("value", proto)?,
        None => HostTensor::new(&[1], TensorData::F32(vec![0.0]))?,
    };
    if value.len() != 1 {
        return Err(ctx.attrs.invalid(
            "value",
            format!("holds {} elements, expected 1", value.len()),
        ));
    }
    Ok(Op::ConstantOfShape { value })
}

/// Range.
pub(super) fn range(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(3, 3)?;
    Ok(Op::Range)
}

/// Identity.
pub(super) fn identity(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    Ok(Op::Identity)
}

/// Dropout in inference: opset 12+ `training_mode`, if given, must be a constant false.
pub(super) fn dropout(ctx: &mut NodeContext) -> Result<Op> {
    if ctx.opset < 12 {
        ctx.expect_inputs(1, 1)?;
        super::legacy::reject_training_mode(ctx)?;
        return Ok(Op::Dropout);
    }
    ctx.expect_inputs(1, 3)?;
    if ctx.has_input(2) {
        let training = ctx.constant_input(2).map(|mode| mode.to_f64_vec());
        if training.as_deref() != Some(&[0.0]) {
            return Err(ctx.unsupported(
                "training_mode must be omitted or a constant false; kiln runs Dropout in inference only".into(),
            ));
        }
    }
    Ok(Op::Dropout)
}

/// The layout family's converter of `op_type`.
pub(super) fn layout_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "Concat" => concat,
        "Split" => split,
        "Slice" => slice,
        "Transpose" => transpose,
        "Pad" => pad,
        "Reshape" => reshape,
        "Flatten" => flatten,
        "Squeeze" => squeeze,
        "Unsqueeze" => unsqueeze,
        "Expand" => expand,
        _ => return None,
    })
}

/// The indexing family's converter of `op_type`.
pub(super) fn indexing_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "Gather" => gather,
        "Shape" => shape,
        "ConstantOfShape" => constant_of_shape,
        "Range" => range,
        "Identity" => identity,
        "Dropout" => dropout,
        _ => return None,
    })
}
