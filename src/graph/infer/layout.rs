//! Shape rules of the layout ops and the shape-producing ops: Concat, Split, Slice, Transpose,
//! Pad, Reshape, Flatten, Squeeze, Unsqueeze, Expand, Gather, ConstantOfShape and Range. Most read
//! an input's value (the target shape, the starts, the pads) through [`NodeInputs::ints`].

use super::rules::NodeInputs;
use super::ValueType;
use crate::error::Result;
use crate::ops::elementwise::broadcast_output_shape;
use crate::ops::layout::{
    check_split, concat_shape, flatten_shape, reshape_shape, resolve_pads, resolve_perm,
    resolve_slice, squeeze_shape, unsqueeze_shape, PadMode,
};
use crate::tensor::shape::normalize_axis;
use crate::tensor::{DType, HostTensor};

/// Concat of every input along `axis`.
pub(crate) fn concat(inputs: &NodeInputs<'_>, axis: i64) -> Result<Vec<usize>> {
    let shapes = (0..inputs.len())
        .map(|index| inputs.shape(index))
        .collect::<Result<Vec<_>>>()?;
    let (_, shape) = concat_shape(&shapes, axis).map_err(|e| inputs.at_node(e))?;
    Ok(shape)
}

/// Split along `axis` by the sizes in input 1, or into `num_outputs` (else one per output) chunks
/// of `ceil(extent / count)`, the last one smaller when the extent does not divide.
pub(crate) fn split(
    inputs: &NodeInputs<'_>,
    axis: i64,
    num_outputs: Option<usize>,
) -> Result<Vec<ValueType>> {
    let (dtype, shape) = (inputs.dtype(0)?, inputs.shape(0)?);
    let outputs = inputs.node.outputs.len();
    let sizes = match inputs.optional(1) {
        Some(_) => inputs.extents(1, "split")?,
        None => {
            let count = num_outputs.unwrap_or(outputs);
            let axis = normalize_axis("Split", axis, shape.len()).map_err(|e| inputs.at_node(e))?;
            let chunk = shape[axis].div_ceil(count.max(1));
            (0..count)
                .map(|index| shape[axis].saturating_sub(index * chunk).min(chunk))
                .collect()
        }
    };
    if sizes.len() != outputs {
        return Err(inputs.error(format!(
            "splits into {} parts but has {outputs} outputs",
            sizes.len()
        )));
    }
    let axis = check_split(shape, axis, &sizes).map_err(|e| inputs.at_node(e))?;
    Ok(sizes
        .iter()
        .map(|&size| {
            let mut part = shape.to_vec();
            part[axis] = size;
            ValueType::new(dtype, part)
        })
        .collect())
}

/// Slice by `starts`, `ends`, `axes?` and `steps?` (inputs 1 to 4).
pub(crate) fn slice(inputs: &NodeInputs<'_>) -> Result<Vec<usize>> {
    let starts = inputs.required_ints(1, "starts")?;
    let ends = inputs.required_ints(2, "ends")?;
    let axes = inputs.ints(3, "axes")?;
    let steps = inputs.ints(4, "steps")?;
    let resolved = resolve_slice(
        inputs.shape(0)?,
        &starts,
        &ends,
        axes.as_deref(),
        steps.as_deref(),
    )
    .map_err(|e| inputs.at_node(e))?;
    Ok(resolved.iter().map(|axis| axis.count).collect())
}

/// Transpose by `perm` (reversed axes when absent).
pub(crate) fn transpose(inputs: &NodeInputs<'_>, perm: &Option<Vec<usize>>) -> Result<Vec<usize>> {
    let shape = inputs.shape(0)?;
    let perm = resolve_perm(shape.len(), perm.as_deref()).map_err(|e| inputs.at_node(e))?;
    Ok(perm.iter().map(|&axis| shape[axis]).collect())
}

/// Pad by `pads` (input 1), which cover the `axes` of input 3 when given, else every axis.
pub(crate) fn pad(inputs: &NodeInputs<'_>, mode: PadMode) -> Result<Vec<usize>> {
    let shape = inputs.shape(0)?;
    let rank = shape.len();
    let pads = inputs.required_ints(1, "pads")?;
    let full_pads = match inputs.ints(3, "axes")? {
        None => pads,
        Some(axes) => {
            if pads.len() != 2 * axes.len() {
                return Err(inputs.error(format!(
                    "pads {pads:?} must hold two values for each of the axes {axes:?}"
                )));
            }
            let mut full = vec![0; 2 * rank];
            for (index, &axis) in axes.iter().enumerate() {
                let axis = normalize_axis("Pad", axis, rank).map_err(|e| inputs.at_node(e))?;
                full[axis] = pads[index];
                full[axis + rank] = pads[index + axes.len()];
            }
            full
        }
    };
    let resolved = resolve_pads(shape, &full_pads, mode).map_err(|e| inputs.at_node(e))?;
    Ok(resolved.out_shape)
}

/// Reshape to the shape in input 1 (`0` copies, `-1` infers).
pub(crate) fn reshape(inputs: &NodeInputs<'_>, allow_zero: bool) -> Result<Vec<usize>> {
    let spec = inputs.required_ints(1, "shape")?;
    reshape_shape(inputs.shape(0)?, &spec, allow_zero).map_err(|e| inputs.at_node(e))
}

/// Flatten to two axes at `axis`.
pub(crate) fn flatten(inputs: &NodeInputs<'_>, axis: i64) -> Result<Vec<usize>> {
    flatten_shape(inputs.shape(0)?, axis).map_err(|e| inputs.at_node(e))
}

/// Squeeze the axes of input 1 (every extent-1 axis when absent).
pub(crate) fn squeeze(inputs: &NodeInputs<'_>) -> Result<Vec<usize>> {
    let axes = inputs.ints(1, "axes")?;
    squeeze_shape(inputs.shape(0)?, axes.as_deref()).map_err(|e| inputs.at_node(e))
}

/// Unsqueeze at the axes of input 1.
pub(crate) fn unsqueeze(inputs: &NodeInputs<'_>) -> Result<Vec<usize>> {
    let axes = inputs.required_ints(1, "axes")?;
    unsqueeze_shape(inputs.shape(0)?, &axes).map_err(|e| inputs.at_node(e))
}

/// Expand: the bidirectional broadcast of the input's shape and the shape in input 1.
pub(crate) fn expand(inputs: &NodeInputs<'_>) -> Result<Vec<usize>> {
    let target = inputs.extents(1, "shape")?;
    broadcast_output_shape("Expand", &[inputs.shape(0)?, &target]).map_err(|e| inputs.at_node(e))
}

/// Gather: the data's axes before `axis`, then the indices' axes, then the data's after it.
pub(crate) fn gather(inputs: &NodeInputs<'_>, axis: i64) -> Result<Vec<usize>> {
    let (data, indices) = (inputs.shape(0)?, inputs.shape(1)?);
    if !matches!(inputs.dtype(1)?, DType::I32 | DType::I64) {
        return Err(inputs.error(format!(
            "indices must be i32 or i64, got {}",
            inputs.dtype(1)?
        )));
    }
    let axis = normalize_axis("Gather", axis, data.len()).map_err(|e| inputs.at_node(e))?;
    Ok([&data[..axis], indices, &data[axis + 1..]].concat())
}

/// ConstantOfShape: the shape in input 0, which must be 1-D; `value` must hold one element.
pub(crate) fn constant_of_shape(inputs: &NodeInputs<'_>, value: &HostTensor) -> Result<Vec<usize>> {
    if value.len() != 1 || inputs.shape(0)?.len() != 1 {
        return Err(inputs.error(format!(
            "needs a 1-D shape and a one-element value, got shape input {:?} and value {:?}",
            inputs.shape(0)?,
            value.shape()
        )));
    }
    inputs.extents(0, "shape")
}

/// Range: `max(ceil((limit − start) / delta), 0)` elements, computed in the inputs' type.
pub(crate) fn range(inputs: &NodeInputs<'_>) -> Result<Vec<usize>> {
    let scalar = |index: usize, what: &str| -> Result<&HostTensor> {
        let value = inputs.value(index, what)?;
        let value = value.ok_or_else(|| inputs.error(format!("input {what} is required")))?;
        if value.len() != 1 {
            return Err(inputs.error(format!("{what} must be a scalar, got {:?}", value.shape())));
        }
        Ok(value)
    };
    let (start, limit, delta) = (
        scalar(0, "start")?,
        scalar(1, "limit")?,
        scalar(2, "delta")?,
    );
    let count = match start.dtype() {
        DType::F32 | DType::F16 => {
            let value = |t: &HostTensor| t.to_f64_vec()[0] as f32;
            let (start, limit, delta) = (value(start), value(limit), value(delta));
            let count = ((limit - start) / delta).ceil();
            if !count.is_finite() {
                return Err(inputs.error(format!(
                    "start {start}, limit {limit} and delta {delta} give no finite length"
                )));
            }
            count.max(0.0) as usize
        }
        _ => {
            let value = |t: &HostTensor| t.to_i64_vec("Range").map(|v| i128::from(v[0]));
            let (start, limit, delta) = (value(start)?, value(limit)?, value(delta)?);
            if delta == 0 {
                return Err(inputs.error("delta is 0".into()));
            }
            let span = limit - start;
            let count = if span != 0 && (span > 0) == (delta > 0) {
                (span.abs() + delta.abs() - 1) / delta.abs()
            } else {
                0
            };
            usize::try_from(count).map_err(|_| inputs.error(format!("{count} elements")))?
        }
    };
    Ok(vec![count])
}
