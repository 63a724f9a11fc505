//! Data movement for every dtype: Concat, Split, Slice, Transpose and Pad, through the layout
//! references ([`reference_concat`], [`reference_slice`], [`reference_transpose`],
//! [`reference_pad`]) and their argument rules ([`concat_shape`], [`resolve_slice`],
//! [`resolve_perm`], [`resolve_pads`]).

use crate::error::Result;
use crate::graph::eval::args::{
    expect_arity, expect_same_dtype, integer_values, invalid, optional, optional_non_empty,
    output_len, required, Inputs, MAX_OUTPUT_ELEMENTS,
};
use crate::graph::eval::element::{elements, with_element_type, HostElement};
use crate::ops::layout::{
    concat_shape, reference_concat, reference_pad, reference_slice, reference_transpose,
    resolve_pads, resolve_perm, resolve_slice, PadMode, SliceAxis,
};
use crate::tensor::shape::normalize_axis;
use crate::tensor::HostTensor;

/// Concat of every input along `axis`.
pub(crate) fn concat(axis: i64, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, usize::MAX)?;
    let tensors = (0..inputs.len())
        .map(|index| required(inputs, index))
        .collect::<Result<Vec<_>>>()?;
    for (index, tensor) in tensors.iter().enumerate() {
        expect_same_dtype(tensors[0], tensor, &format!("input {index}"))?;
    }
    let shapes: Vec<&[usize]> = tensors.iter().map(|t| t.shape()).collect();
    let (axis, shape) = concat_shape(&shapes, axis)?;
    output_len(&shape)?;
    let data = with_element_type!(tensors[0].dtype(), T => {
        let parts = tensors
            .iter()
            .map(|t| Ok((elements::<T>(t, "an input")?, t.shape())))
            .collect::<Result<Vec<_>>>()?;
        T::into_data(reference_concat(&parts, axis))
    });
    Ok(vec![HostTensor::new(&shape, data)?])
}

/// Split `(x, split?)` along `axis` into `outputs` parts: the sizes from `split`, else
/// `num_outputs` parts of `ceil(extent / n)` (the last smaller, opset 18), else `outputs` equal
/// parts (any remainder to the last, as ONNX's reference).
pub(crate) fn split(
    axis: i64,
    num_outputs: Option<usize>,
    outputs: usize,
    inputs: Inputs,
) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 2)?;
    let x = required(inputs, 0)?;
    let axis = normalize_axis("", axis, x.shape().len())?;
    let extent = x.shape()[axis];
    let sizes: Vec<usize> = match (optional_non_empty(inputs, 1), num_outputs) {
        (Some(split), _) => integer_values(split, "split")?
            .into_iter()
            .map(|size| usize::try_from(size).map_err(|_| invalid("split sizes must be ≥ 0")))
            .collect::<Result<_>>()?,
        (None, Some(parts)) if parts > 0 => {
            let chunk = extent.div_ceil(parts);
            (0..parts)
                .map(|part| chunk.min(extent.saturating_sub(part * chunk)))
                .collect()
        }
        (None, None) if outputs > 0 => {
            let chunk = extent / outputs;
            let mut sizes = vec![chunk; outputs];
            sizes[outputs - 1] += extent - chunk * outputs;
            sizes
        }
        _ => return Err(invalid("needs split sizes or at least one output")),
    };
    let total = sizes
        .iter()
        .try_fold(0usize, |sum, &size| sum.checked_add(size));
    if sizes.len() != outputs || total != Some(extent) {
        return Err(invalid(format!(
            "split sizes {sizes:?} must give {outputs} parts adding up to axis {axis}'s extent \
             {extent}"
        )));
    }
    let mut start = 0;
    sizes
        .iter()
        .map(|&size| {
            let mut axes = whole_axes(x.shape());
            axes[axis] = SliceAxis {
                start: start as i64,
                step: 1,
                count: size,
            };
            start += size;
            slice_tensor(x, &axes)
        })
        .collect()
}

/// Every axis of `shape` taken whole.
fn whole_axes(shape: &[usize]) -> Vec<SliceAxis> {
    shape
        .iter()
        .map(|&count| SliceAxis {
            start: 0,
            step: 1,
            count,
        })
        .collect()
}

fn slice_tensor(x: &HostTensor, axes: &[SliceAxis]) -> Result<HostTensor> {
    let shape: Vec<usize> = axes.iter().map(|axis| axis.count).collect();
    let data = with_element_type!(x.dtype(), T => {
        T::into_data(reference_slice(elements::<T>(x, "x")?, x.shape(), axes))
    });
    HostTensor::new(&shape, data)
}

/// Slice `(x, starts, ends, axes?, steps?)`.
pub(crate) fn slice(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 3, 5)?;
    let x = required(inputs, 0)?;
    let starts = integer_values(required(inputs, 1)?, "starts")?;
    let ends = integer_values(required(inputs, 2)?, "ends")?;
    let list = |index: usize, what: &str| {
        optional(inputs, index)
            .map(|t| integer_values(t, what))
            .transpose()
    };
    let (axes, steps) = (list(3, "axes")?, list(4, "steps")?);
    if steps.iter().flatten().any(|&step| step == i64::MIN) {
        return Err(invalid(format!("steps {steps:?} are out of range")));
    }
    let resolved = resolve_slice(x.shape(), &starts, &ends, axes.as_deref(), steps.as_deref())?;
    Ok(vec![slice_tensor(x, &resolved)?])
}

/// Transpose by `perm` (`None` reverses the axes).
pub(crate) fn transpose(perm: Option<&[usize]>, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let x = required(inputs, 0)?;
    let perm = resolve_perm(x.shape().len(), perm)?;
    let shape: Vec<usize> = perm.iter().map(|&axis| x.shape()[axis]).collect();
    let data = with_element_type!(x.dtype(), T => {
        T::into_data(reference_transpose(elements::<T>(x, "x")?, x.shape(), &perm))
    });
    Ok(vec![HostTensor::new(&shape, data)?])
}

/// Pad `(x, pads, constant_value?, axes?)` in `mode`. A constant mode fills with
/// `constant_value` when given, else with the mode's own value (0 unless an old-opset attribute
/// set it).
pub(crate) fn pad(mode: PadMode, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 4)?;
    let x = required(inputs, 0)?;
    let rank = x.shape().len();
    let given = integer_values(required(inputs, 1)?, "pads")?;
    let pads = match optional(inputs, 3) {
        None => given,
        Some(axes) => spread_pads(&given, &integer_values(axes, "axes")?, rank)?,
    };
    if pads
        .iter()
        .any(|pad| pad.unsigned_abs() > MAX_OUTPUT_ELEMENTS as u64)
    {
        return Err(invalid(format!("pads {pads:?} are out of range")));
    }
    let resolved = resolve_pads(x.shape(), &pads, mode)?;
    output_len(&resolved.out_shape)?;
    let fill_value = optional_non_empty(inputs, 2);
    if let Some(fill) = fill_value {
        expect_same_dtype(x, fill, "constant_value")?;
    }
    let data = with_element_type!(x.dtype(), T => {
        let fill = match (fill_value, mode) {
            (Some(fill), _) => elements::<T>(fill, "constant_value")?[0],
            (None, PadMode::Constant(value)) => T::from_f64(value),
            (None, _) => T::default(),
        };
        let values = elements::<T>(x, "x")?;
        T::into_data(reference_pad(values, x.shape(), &resolved.pairs, mode, fill))
    });
    Ok(vec![HostTensor::new(&resolved.out_shape, data)?])
}

/// Pads given for `axes` only, spread to `[begins of every axis…, ends of every axis…]`.
fn spread_pads(pads: &[i64], axes: &[i64], rank: usize) -> Result<Vec<i64>> {
    if pads.len() != 2 * axes.len() {
        return Err(invalid(format!(
            "pads {pads:?} must hold two values per axis in {axes:?}"
        )));
    }
    let mut spread = vec![0; 2 * rank];
    for (index, &axis) in axes.iter().enumerate() {
        let axis = normalize_axis("", axis, rank)?;
        spread[axis] = pads[index];
        spread[axis + rank] = pads[index + axes.len()];
    }
    Ok(spread)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::TensorData;

    fn t(shape: &[usize], data: TensorData) -> HostTensor {
        HostTensor::new(shape, data).unwrap()
    }

    fn i64s(values: &[i64]) -> HostTensor {
        t(&[values.len()], TensorData::I64(values.to_vec()))
    }

    #[test]
    fn concat_negative_axis_and_empty_parts() {
        let a = t(&[2, 1], TensorData::U8(vec![1, 2]));
        let b = t(&[2, 2], TensorData::U8(vec![3, 4, 5, 6]));
        let empty = t(&[2, 0], TensorData::U8(vec![]));
        let joined = concat(-1, &[Some(&a), Some(&empty), Some(&b)]).unwrap();
        assert_eq!(joined[0].shape(), &[2, 3]);
        assert_eq!(joined[0].data(), &TensorData::U8(vec![1, 3, 4, 2, 5, 6]));
        let wrong = t(&[2, 1], TensorData::I8(vec![1, 2]));
        assert!(concat(1, &[Some(&a), Some(&wrong)]).is_err());
        assert!(concat(2, &[Some(&a)]).is_err());
    }

    #[test]
    fn split_by_sizes_count_and_outputs() {
        let x = t(&[5], TensorData::Bool(vec![true, false, true, false, true]));
        let parts = split(0, None, 2, &[Some(&x), Some(&i64s(&[1, 4]))]).unwrap();
        assert_eq!((parts[0].len(), parts[1].len()), (1, 4));
        let even = split(-1, Some(2), 2, &[Some(&x)]).unwrap();
        assert_eq!((even[0].len(), even[1].len()), (3, 2));
        let plain = split(0, None, 2, &[Some(&x)]).unwrap();
        assert_eq!((plain[0].len(), plain[1].len()), (2, 3));
        assert!(split(0, None, 3, &[Some(&x), Some(&i64s(&[1, 4]))]).is_err());
        assert!(split(0, None, 2, &[Some(&x), Some(&i64s(&[-1, 6]))]).is_err());
    }

    #[test]
    fn slice_with_negative_steps_and_axes() {
        let x = t(&[2, 3], TensorData::I32(vec![0, 1, 2, 3, 4, 5]));
        let sliced = slice(&[
            Some(&x),
            Some(&i64s(&[-1])),
            Some(&i64s(&[i64::MIN])),
            Some(&i64s(&[-1])),
            Some(&i64s(&[-2])),
        ])
        .unwrap();
        assert_eq!(sliced[0].shape(), &[2, 2]);
        assert_eq!(sliced[0].data(), &TensorData::I32(vec![2, 0, 5, 3]));
        let floats = t(&[1], TensorData::F32(vec![0.0]));
        assert!(slice(&[Some(&x), Some(&floats), Some(&floats)]).is_err());
    }

    #[test]
    fn transpose_default_reverses() {
        let x = t(&[2, 3], TensorData::I64(vec![0, 1, 2, 3, 4, 5]));
        let reversed = transpose(None, &[Some(&x)]).unwrap();
        assert_eq!(reversed[0].shape(), &[3, 2]);
        assert_eq!(reversed[0].data(), &TensorData::I64(vec![0, 3, 1, 4, 2, 5]));
        assert!(transpose(Some(&[0, 0]), &[Some(&x)]).is_err());
    }

    #[test]
    fn pad_constant_reflect_and_axes() {
        let x = t(&[3], TensorData::F32(vec![1.0, 2.0, 3.0]));
        let fill = t(&[], TensorData::F32(vec![9.0]));
        let padded = pad(
            PadMode::Constant(0.0),
            &[Some(&x), Some(&i64s(&[1, 2])), Some(&fill)],
        )
        .unwrap();
        assert_eq!(padded[0].as_f32().unwrap(), &[9.0, 1.0, 2.0, 3.0, 9.0, 9.0]);
        let reflected = pad(PadMode::Reflect, &[Some(&x), Some(&i64s(&[2, 1]))]).unwrap();
        assert_eq!(
            reflected[0].as_f32().unwrap(),
            &[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]
        );
        let grid = t(&[2, 2], TensorData::I8(vec![1, 2, 3, 4]));
        let by_axis = pad(
            PadMode::Edge,
            &[Some(&grid), Some(&i64s(&[0, 1])), None, Some(&i64s(&[-1]))],
        )
        .unwrap();
        assert_eq!(by_axis[0].data(), &TensorData::I8(vec![1, 2, 2, 3, 4, 4]));
        assert!(pad(PadMode::Reflect, &[Some(&x), Some(&i64s(&[3, 0]))]).is_err());
        assert!(pad(
            PadMode::Constant(0.0),
            &[Some(&x), Some(&i64s(&[1 << 40, 0]))]
        )
        .is_err());
    }
}
