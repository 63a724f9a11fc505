//! Resize (opsets 10, 11, 13, 18, 19) and Upsample (7, 9), normalised to
//! `Resize (x, roi?, scales?, sizes?)`. `roi` is always dropped: only `tf_crop_and_resize` reads
//! it, and kiln rejects that mode. An empty constant `scales` or `sizes` (how opset 11 files
//! write "not given") is dropped too.
//!
//! Opset 10 Resize and Upsample have no coordinate attributes: they sample at `x / scale`
//! (`asymmetric`), and onnxruntime rounds nearest indices down when upsampling an axis and up
//! when downsampling it, which is what kiln reproduces when the scales are constant.

use super::{Converter, NodeContext};
use crate::error::Result;
use crate::graph::{Op, ResizeAttrs};
use crate::ops::resize::{CoordinateMode, NearestMode, ResizeMode};
use crate::tensor::HostTensor;

/// Resize.
pub(super) fn resize(ctx: &mut NodeContext) -> Result<Op> {
    if ctx.opset < 11 {
        ctx.expect_inputs(2, 2)?;
        let mode = if is_nearest(ctx)? {
            ResizeMode::Nearest(legacy_nearest_rounding(ctx, 1)?)
        } else {
            ResizeMode::Linear
        };
        move_scales_to_input_2(ctx);
        return Ok(asymmetric(mode));
    }
    ctx.expect_inputs(1, 4)?;
    reject_opset_18_options(ctx)?;
    let mode = if is_nearest(ctx)? {
        ResizeMode::Nearest(nearest_mode(ctx)?)
    } else {
        ResizeMode::Linear
    };
    let coordinates = coordinate_mode(ctx)?;
    let axes = ctx.attrs.ints("axes")?.unwrap_or_default().to_vec();
    ctx.set_input(1, None);
    for index in [2, 3] {
        if ctx.constant_input(index).is_some_and(HostTensor::is_empty) {
            ctx.set_input(index, None);
        }
    }
    match (ctx.has_input(2), ctx.has_input(3)) {
        (true, true) => return Err(ctx.invalid("gives both scales and sizes".into())),
        (false, false) => return Err(ctx.invalid("gives neither scales nor sizes".into())),
        _ => {}
    }
    Ok(Op::Resize(ResizeAttrs {
        mode,
        coordinates,
        axes,
    }))
}

/// Upsample: opset 7 `scales` attribute, opset 9 `scales` input.
pub(super) fn upsample(ctx: &mut NodeContext) -> Result<Op> {
    if ctx.opset < 9 {
        ctx.expect_inputs(1, 1)?;
        let scales = ctx
            .attrs
            .floats("scales")?
            .ok_or_else(|| {
                ctx.attrs
                    .invalid("scales", format!("is required at opset {}", ctx.opset))
            })?
            .to_vec();
        ctx.add_constant_input(1, "scales", HostTensor::from_f32(&[scales.len()], scales)?);
    } else {
        ctx.expect_inputs(2, 2)?;
    }
    let mode = if is_nearest(ctx)? {
        ResizeMode::Nearest(legacy_nearest_rounding(ctx, 1)?)
    } else {
        ResizeMode::Linear
    };
    move_scales_to_input_2(ctx);
    Ok(asymmetric(mode))
}

fn asymmetric(mode: ResizeMode) -> Op {
    Op::Resize(ResizeAttrs {
        mode,
        coordinates: CoordinateMode::Asymmetric,
        axes: Vec::new(),
    })
}

/// `(x, scales)` becomes `(x, roi: none, scales)`.
fn move_scales_to_input_2(ctx: &mut NodeContext) {
    let scales = ctx.input_name(1);
    ctx.set_input(1, None);
    ctx.set_input(2, scales);
}

/// `mode`: true for nearest, false for linear; cubic is unsupported.
fn is_nearest(ctx: &NodeContext) -> Result<bool> {
    let mode = ctx.attrs.string_or("mode", "nearest")?;
    match mode.as_str() {
        "nearest" => Ok(true),
        "linear" | "bilinear" => Ok(false),
        "cubic" => Err(ctx.attrs.unsupported(
            "mode",
            "is 'cubic'; kiln resizes with nearest or linear".into(),
        )),
        _ => Err(ctx.attrs.invalid(
            "mode",
            format!("is '{mode}'; expected nearest, linear or cubic"),
        )),
    }
}

/// Nearest rounding for opset 10 Resize and Upsample: down where the constant scales enlarge
/// an axis, up where they shrink it (onnxruntime's rule); down when the scales are not constant.
fn legacy_nearest_rounding(ctx: &NodeContext, scales_index: usize) -> Result<NearestMode> {
    let Some(scales) = ctx.constant_input(scales_index) else {
        return Ok(NearestMode::Floor);
    };
    let changed: Vec<f64> = scales
        .to_f64_vec()
        .into_iter()
        .filter(|&scale| scale != 1.0)
        .collect();
    if changed.iter().all(|&scale| scale > 1.0) {
        Ok(NearestMode::Floor)
    } else if changed.iter().all(|&scale| scale < 1.0) {
        Ok(NearestMode::Ceil)
    } else {
        Err(ctx.unsupported(format!(
            "nearest resizing that enlarges some axes and shrinks others at opset {} (scales {:?})",
            ctx.opset,
            scales.to_f64_vec()
        )))
    }
}

/// `nearest_mode`.
fn nearest_mode(ctx: &NodeContext) -> Result<NearestMode> {
    let name = ctx.attrs.string_or("nearest_mode", "round_prefer_floor")?;
    match name.as_str() {
        "round_prefer_floor" => Ok(NearestMode::RoundPreferFloor),
        "round_prefer_ceil" => Ok(NearestMode::RoundPreferCeil),
        "floor" => Ok(NearestMode::Floor),
        "ceil" => Ok(NearestMode::Ceil),
        _ => Err(ctx.attrs.invalid("nearest_mode", format!("is '{name}'"))),
    }
}

/// `coordinate_transformation_mode`.
fn coordinate_mode(ctx: &NodeContext) -> Result<CoordinateMode> {
    let attr = "coordinate_transformation_mode";
    let name = ctx.attrs.string_or(attr, "half_pixel")?;
    match name.as_str() {
        "half_pixel" => Ok(CoordinateMode::HalfPixel),
        "half_pixel_symmetric" => Ok(CoordinateMode::HalfPixelSymmetric),
        "pytorch_half_pixel" => Ok(CoordinateMode::PytorchHalfPixel),
        "align_corners" => Ok(CoordinateMode::AlignCorners),
        "asymmetric" => Ok(CoordinateMode::Asymmetric),
        "tf_half_pixel_for_nn" => Ok(CoordinateMode::TfHalfPixelForNn),
        "tf_crop_and_resize" => Err(ctx
            .attrs
            .unsupported(attr, "is 'tf_crop_and_resize'".into())),
        _ => Err(ctx.attrs.invalid(attr, format!("is '{name}'"))),
    }
}

/// Opset 18 `antialias` and `keep_aspect_ratio_policy` beyond their defaults.
fn reject_opset_18_options(ctx: &NodeContext) -> Result<()> {
    if ctx.attrs.bool_or("antialias", false)? {
        return Err(ctx.attrs.unsupported(
            "antialias",
            "is 1; kiln resizes without antialiasing".into(),
        ));
    }
    let policy = ctx.attrs.string_or("keep_aspect_ratio_policy", "stretch")?;
    if policy != "stretch" {
        return Err(ctx.attrs.unsupported(
            "keep_aspect_ratio_policy",
            format!("is '{policy}'; kiln stretches"),
        ));
    }
    Ok(())
}

/// The resize family's converter of `op_type`.
pub(super) fn resize_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "Resize" => resize,
        "Upsample" => upsample,
        _ => return None,
    })
}
