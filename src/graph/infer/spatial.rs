//! Shape rules of the spatial ops: Conv, QLinearConv, ConvTranspose, the pools and Resize, with
//! ONNX's `auto_pad` resolved to explicit pads (public, so a backend pads exactly as inference
//! sized the output).

use super::rules::NodeInputs;
use crate::error::{Error, Result};
use crate::graph::{AutoPad, ConvAttrs, ConvTransposeAttrs, PoolAttrs, ResizeAttrs};
use crate::ops::conv::{Conv2dParams, ConvTranspose2dParams};
use crate::ops::pooling::{pool2d_output_shape, Pool2dOptions};
use crate::ops::resize::coordinates::axis_geometry;
use crate::ops::resize::ResizeTarget;
use crate::tensor::shape::normalize_axis;

/// The explicit pads (all begins, then all ends) of a convolution or pool over the spatial
/// extents `input` with window `kernel`: `pads` itself for [`AutoPad::NotSet`], zeros for
/// `Valid`, and for `SameUpper` / `SameLower` the total `(ceil(in / stride) − 1)·stride +
/// (kernel − 1)·dilation + 1 − in` (at least 0) split evenly, the odd one at the end (upper) or
/// the beginning (lower).
pub fn resolve_auto_pads(
    auto_pad: AutoPad,
    input: &[usize],
    kernel: &[usize],
    strides: &[usize],
    dilations: &[usize],
    pads: &[usize],
) -> Result<Vec<usize>> {
    let rank = input.len();
    let lengths_fit = [kernel.len(), strides.len(), dilations.len()] == [rank; 3]
        && (auto_pad != AutoPad::NotSet || pads.len() == 2 * rank);
    if !lengths_fit || strides.contains(&0) || dilations.contains(&0) || kernel.contains(&0) {
        return Err(Error::InvalidArgument {
            op: "auto_pad",
            detail: format!(
                "kernel {kernel:?}, strides {strides:?}, dilations {dilations:?} and pads \
                 {pads:?} must fit {rank} spatial axes, each at least 1 (pads 2 per axis)"
            ),
        });
    }
    let mut resolved = vec![0; 2 * rank];
    match auto_pad {
        AutoPad::NotSet => return Ok(pads.to_vec()),
        AutoPad::Valid => return Ok(resolved),
        AutoPad::SameUpper | AutoPad::SameLower => {}
    }
    for axis in 0..rank {
        let output = input[axis].div_ceil(strides[axis]);
        let extent = (kernel[axis] - 1) * dilations[axis] + 1;
        let total = (output.saturating_sub(1) * strides[axis] + extent).saturating_sub(input[axis]);
        let (small, large) = (total / 2, total - total / 2);
        let (begin, end) = if auto_pad == AutoPad::SameLower {
            (large, small)
        } else {
            (small, large)
        };
        resolved[axis] = begin;
        resolved[axis + rank] = end;
    }
    Ok(resolved)
}

/// The explicit pads of a ConvTranspose over the spatial extents `input` with window `kernel`.
/// An `output_shape` (the spatial extents, optionally after N and C), or with `SameUpper` /
/// `SameLower` the output `input · stride`, fixes the total padding `stride·(in − 1) +
/// output_padding + (kernel − 1)·dilation + 1 − output`, split as ONNX says (the odd one at the
/// end for `SameUpper`, else at the beginning); otherwise the pads are `pads` (zeros for
/// `Valid`). Empty strides, dilations, pads and output_padding take ONNX's defaults.
///
/// With `output_shape` the total padding may go negative, as ONNX allows: a negative pad extends
/// the output at that end instead of cropping it (the split floors, so a negative odd unit goes
/// to the end unless `SameUpper`).
pub fn conv_transpose_pads(
    attrs: &ConvTransposeAttrs,
    input: &[usize],
    kernel: &[usize],
) -> Result<Vec<i64>> {
    let rank = input.len();
    let attrs = &attrs.with_spatial_defaults(rank);
    let conv = &attrs.conv;
    let same = matches!(conv.auto_pad, AutoPad::SameUpper | AutoPad::SameLower);
    if attrs.output_shape.is_empty() && !same {
        let pads = resolve_auto_pads(
            conv.auto_pad,
            input,
            kernel,
            &conv.strides,
            &conv.dilations,
            &conv.pads,
        )?;
        return Ok(pads.iter().map(|&pad| pad as i64).collect());
    }
    let lists = [
        kernel.len(),
        conv.strides.len(),
        conv.dilations.len(),
        attrs.output_padding.len(),
    ];
    let invalid = |detail: String| Error::InvalidArgument {
        op: "conv_transpose_pads",
        detail,
    };
    // `output_shape` may list the spatial extents only, or N and C before them.
    let output_shape = match attrs.output_shape.len() {
        len if len == rank + 2 => &attrs.output_shape[2..],
        _ => &attrs.output_shape[..],
    };
    if lists != [rank; 4] || !(output_shape.is_empty() || output_shape.len() == rank) {
        return Err(invalid(format!(
            "kernel, strides, dilations, output_padding and output_shape {:?} must have {rank} \
             entries",
            attrs.output_shape
        )));
    }
    let mut pads = vec![0; 2 * rank];
    for axis in 0..rank {
        let stride = conv.strides[axis];
        let output = output_shape
            .get(axis)
            .copied()
            .unwrap_or(input[axis] * stride);
        let full = stride * input[axis].saturating_sub(1)
            + attrs.output_padding[axis]
            + kernel[axis].saturating_sub(1) * conv.dilations[axis]
            + 1;
        let total =
            i64::try_from(full).unwrap_or(i64::MAX) - i64::try_from(output).unwrap_or(i64::MAX);
        let half = total.div_euclid(2);
        let (begin, end) = if conv.auto_pad == AutoPad::SameUpper {
            (half, total - half)
        } else {
            (total - half, half)
        };
        pads[axis] = begin;
        pads[axis + rank] = end;
    }
    Ok(pads)
}

/// Conv or QLinearConv: input 0 is X, `weight_index` the weight; the bias follows the weight
/// (Conv) or comes last (QLinearConv, input 8).
pub(super) fn conv(
    inputs: &NodeInputs<'_>,
    attrs: &ConvAttrs,
    weight_index: usize,
) -> Result<Vec<usize>> {
    let (x, weight) = (inputs.shape(0)?, inputs.shape(weight_index)?);
    require_2d(inputs, x)?;
    let attrs = &attrs.with_spatial_defaults(x.len() - 2);
    let kernel = kernel_extents(inputs, &attrs.kernel_shape, weight)?;
    let at = |e| inputs.at_node(e);
    let pads = resolve_auto_pads(
        attrs.auto_pad,
        &x[2..],
        &kernel,
        &attrs.strides,
        &attrs.dilations,
        &attrs.pads,
    )
    .map_err(at)?;
    let params = Conv2dParams {
        strides: fixed(inputs, "strides", &attrs.strides)?,
        pads: fixed(inputs, "pads", &pads)?,
        dilations: fixed(inputs, "dilations", &attrs.dilations)?,
        groups: attrs.group,
    };
    let output = params.output_shape(x, weight).map_err(at)?;
    let bias_index = if weight_index == 1 { 2 } else { 8 };
    if let Some(bias) = inputs.optional(bias_index) {
        if bias.ty.shape != [output[1]] {
            return Err(inputs.error(format!(
                "bias {:?} must be [{}], one value per output channel",
                bias.ty.shape, output[1]
            )));
        }
    }
    Ok(output.to_vec())
}

/// ConvTranspose: X `[N, C, H, W]`, weight `[C, M / group, kH, kW]`. The output is the full
/// transposed output less the pads; negative pads (from `output_shape`) extend it.
pub(super) fn conv_transpose(
    inputs: &NodeInputs<'_>,
    attrs: &ConvTransposeAttrs,
) -> Result<Vec<usize>> {
    let (x, weight) = (inputs.shape(0)?, inputs.shape(1)?);
    require_2d(inputs, x)?;
    let attrs = &attrs.with_spatial_defaults(x.len() - 2);
    let kernel = kernel_extents(inputs, &attrs.conv.kernel_shape, weight)?;
    let pads = conv_transpose_pads(attrs, &x[2..], &kernel).map_err(|e| inputs.at_node(e))?;
    let params = ConvTranspose2dParams {
        strides: fixed(inputs, "strides", &attrs.conv.strides)?,
        pads: [0; 4],
        output_padding: fixed(inputs, "output_padding", &attrs.output_padding)?,
        dilations: fixed(inputs, "dilations", &attrs.conv.dilations)?,
        groups: attrs.conv.group,
    };
    let mut output = params
        .output_shape(x, weight)
        .map_err(|e| inputs.at_node(e))?;
    for axis in 0..2 {
        let full = output[2 + axis] as i64;
        let extent = full - pads[axis] - pads[axis + 2];
        output[2 + axis] = usize::try_from(extent)
            .ok()
            .filter(|&e| e >= 1)
            .ok_or_else(|| {
                inputs.error(format!(
                    "pads {pads:?} leave no output of the {full}-wide transposed axis {axis}"
                ))
            })?;
    }
    Ok(output.to_vec())
}

/// MaxPool / AveragePool over NCHW.
pub(super) fn pool(inputs: &NodeInputs<'_>, attrs: &PoolAttrs) -> Result<Vec<usize>> {
    let x = inputs.shape(0)?;
    require_2d(inputs, x)?;
    let pads = resolve_auto_pads(
        attrs.auto_pad,
        &x[2..],
        &attrs.kernel_shape,
        &attrs.strides,
        &attrs.dilations,
        &attrs.pads,
    )
    .map_err(|e| inputs.at_node(e))?;
    let options = Pool2dOptions {
        kernel: fixed(inputs, "kernel_shape", &attrs.kernel_shape)?,
        strides: fixed(inputs, "strides", &attrs.strides)?,
        pads: fixed(inputs, "pads", &pads)?,
        dilations: fixed(inputs, "dilations", &attrs.dilations)?,
        ceil_mode: attrs.ceil_mode,
        count_include_pad: attrs.count_include_pad,
    };
    let output = pool2d_output_shape(x, &options).map_err(|e| inputs.at_node(e))?;
    Ok(output.to_vec())
}

/// GlobalAveragePool / GlobalMaxPool: `[N, C, 1, …]`.
pub(super) fn global_pool(inputs: &NodeInputs<'_>) -> Result<Vec<usize>> {
    let x = inputs.shape(0)?;
    if x.len() < 3 {
        return Err(inputs.error(format!("input must be [N, C, spatial…], got {x:?}")));
    }
    Ok(x.iter()
        .enumerate()
        .map(|(axis, &dim)| if axis < 2 { dim } else { 1 })
        .collect())
}

/// Resize: the `axes` (all by default) take their extent from `sizes` (input 3) when given, else
/// from `floor(in · scale)` with `scales` (input 2).
pub(super) fn resize(inputs: &NodeInputs<'_>, attrs: &ResizeAttrs) -> Result<Vec<usize>> {
    let x = inputs.shape(0)?;
    let axes: Vec<usize> = if attrs.axes.is_empty() {
        (0..x.len()).collect()
    } else {
        let normalize = |&axis: &i64| normalize_axis("Resize", axis, x.len());
        let axes = attrs.axes.iter().map(normalize).collect::<Result<_>>();
        axes.map_err(|e| inputs.at_node(e))?
    };
    let targets: Vec<ResizeTarget> = match inputs.ints(3, "sizes")?.filter(|s| !s.is_empty()) {
        Some(sizes) => sizes
            .iter()
            .map(|&size| usize::try_from(size).map(|size| ResizeTarget::Sizes([size; 2])))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| inputs.error(format!("sizes {sizes:?} has a negative extent")))?,
        None => {
            let scales = inputs.value(2, "scales")?.map(|t| t.to_f64_vec());
            let scales = scales.filter(|s| !s.is_empty()).ok_or_else(|| {
                inputs.error("needs non-empty scales (input 2) or sizes (input 3)".into())
            })?;
            let target = |&scale: &f64| ResizeTarget::Scales([scale as f32; 2]);
            scales.iter().map(target).collect()
        }
    };
    if targets.len() != axes.len() {
        return Err(inputs.error(format!(
            "{} scales or sizes for {} axes",
            targets.len(),
            axes.len()
        )));
    }
    let mut output = x.to_vec();
    for (&axis, &target) in axes.iter().zip(&targets) {
        let (extent, _) = axis_geometry(target, 0, x[axis])
            .map_err(|e| inputs.error(format!("axis {axis}: {e}")))?;
        output[axis] = extent;
    }
    Ok(output)
}

/// Checks that X is NCHW: the backends run 2-D spatial ops only.
fn require_2d(inputs: &NodeInputs<'_>, x: &[usize]) -> Result<()> {
    if x.len() == 4 {
        return Ok(());
    }
    Err(inputs.unsupported(format!(
        "kiln runs 2-D spatial ops on [N, C, H, W] inputs; this input is {x:?}"
    )))
}

/// The kernel's spatial extents: the weight's trailing axes, which `kernel_shape` (when given)
/// must equal.
fn kernel_extents(
    inputs: &NodeInputs<'_>,
    kernel_shape: &[usize],
    weight: &[usize],
) -> Result<Vec<usize>> {
    let from_weight = weight.get(2..).unwrap_or_default();
    if !kernel_shape.is_empty() && kernel_shape != from_weight {
        return Err(inputs.error(format!(
            "kernel_shape {kernel_shape:?} disagrees with the weight {weight:?}"
        )));
    }
    Ok(from_weight.to_vec())
}

/// A per-axis attribute list as a fixed-size array.
fn fixed<const N: usize>(
    inputs: &NodeInputs<'_>,
    what: &str,
    list: &[usize],
) -> Result<[usize; N]> {
    list.try_into()
        .map_err(|_| inputs.error(format!("{what} {list:?} must have {N} entries")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_pads_put_the_odd_one_where_onnx_says() {
        let pads = |auto_pad| resolve_auto_pads(auto_pad, &[5, 6], &[2, 3], &[1, 2], &[1, 1], &[]);
        // Axis 0: 5 outputs need 4 + 2 − 5 = 1 pad; axis 1: 3 outputs need 4 + 3 − 6 = 1.
        assert_eq!(pads(AutoPad::SameUpper).unwrap(), [0, 0, 1, 1]);
        assert_eq!(pads(AutoPad::SameLower).unwrap(), [1, 1, 0, 0]);
        assert_eq!(pads(AutoPad::Valid).unwrap(), [0; 4]);
        let explicit = resolve_auto_pads(AutoPad::NotSet, &[5], &[2], &[1], &[1], &[1, 0]);
        assert_eq!(explicit.unwrap(), [1, 0]);
        assert!(resolve_auto_pads(AutoPad::SameUpper, &[5], &[2], &[0], &[1], &[]).is_err());
    }
}
