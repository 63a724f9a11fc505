//! Shape rules of the spatial ops: Conv, QLinearConv, ConvTranspose, the pools and Resize. The
//! pads and output extents come from the ops' one geometry resolver ([`crate::ops::conv::geometry`]),
//! so inference sizes an output exactly as the backends compute it.

use super::rules::NodeInputs;
use crate::error::Result;
use crate::graph::{ConvAttrs, ConvTransposeAttrs, PoolAttrs, ResizeAttrs};
use crate::ops::conv::geometry::{resolve_auto_pads, ConvGeometry};
use crate::ops::pooling::{pool2d_output_shape, Pool2dOptions};
use crate::ops::resize::coordinates::axis_geometry;
use crate::ops::resize::ResizeTarget;
use crate::tensor::shape::normalize_axis;

/// Conv or QLinearConv: input 0 is X, `weight_index` the weight; the bias follows the weight
/// (Conv) or comes last (QLinearConv, input 8).
pub(crate) fn conv(
    inputs: &NodeInputs<'_>,
    attrs: &ConvAttrs,
    weight_index: usize,
) -> Result<Vec<usize>> {
    let (x, weight) = (inputs.shape(0)?, inputs.shape(weight_index)?);
    require_2d(inputs, x)?;
    let geometry =
        ConvGeometry::forward(&attrs.spec(), x, weight).map_err(|e| inputs.at_node(e))?;
    let output = geometry.output_shape(x[0]);
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
pub(crate) fn conv_transpose(
    inputs: &NodeInputs<'_>,
    attrs: &ConvTransposeAttrs,
) -> Result<Vec<usize>> {
    let (x, weight) = (inputs.shape(0)?, inputs.shape(1)?);
    require_2d(inputs, x)?;
    let geometry =
        ConvGeometry::transposed(&attrs.spec(), x, weight).map_err(|e| inputs.at_node(e))?;
    Ok(geometry.output_shape(x[0]))
}

/// MaxPool / AveragePool over NCHW.
pub(crate) fn pool(inputs: &NodeInputs<'_>, attrs: &PoolAttrs) -> Result<Vec<usize>> {
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
pub(crate) fn global_pool(inputs: &NodeInputs<'_>) -> Result<Vec<usize>> {
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
pub(crate) fn resize(inputs: &NodeInputs<'_>, attrs: &ResizeAttrs) -> Result<Vec<usize>> {
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

/// A per-axis attribute list as a fixed-size array.
fn fixed<const N: usize>(
    inputs: &NodeInputs<'_>,
    what: &str,
    list: &[usize],
) -> Result<[usize; N]> {
    list.try_into()
        .map_err(|_| inputs.error(format!("{what} {list:?} must have {N} entries")))
}
