//! Indexing and tensor construction for every dtype: Gather, Shape, ConstantOfShape, Range, and
//! the pass-through Identity and Dropout (inference mode).

use crate::error::Result;
use crate::graph::eval::args::{
    bad_value, expect_arity, expect_same_dtype, integer_values, invalid, optional, output_len,
    required, scalar_f64, unsupported, Inputs,
};
use crate::graph::eval::element::{
    elements, is_float, is_integer, tensor_from_f64, tensor_from_i64, with_element_type,
    HostElement,
};
use crate::ops::indexing::{gather_shape, reference_gather};
use crate::tensor::shape::normalize_axis;
use crate::tensor::{HostTensor, TensorData};

/// Gather `(data, indices)` along `axis`: the output is `data.shape[..axis] ++ indices.shape ++
/// data.shape[axis + 1..]`; negative indices count from the end, others out of range are an
/// error.
pub(crate) fn gather(axis: i64, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 2)?;
    let (data, indices) = (required(inputs, 0)?, required(inputs, 1)?);
    integer_values(indices, "indices")?;
    let normalized = normalize_axis("", axis, data.shape().len())?;
    output_len(&gather_shape(data.shape(), indices.shape(), normalized))?;
    Ok(vec![reference_gather(data, indices, axis)?])
}

/// Shape: the input's extents from `start` to `end` (negative count from the end; both clamped
/// to `[0, rank]`), as i64.
pub(crate) fn shape(start: i64, end: Option<i64>, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let dims = required(inputs, 0)?.shape();
    let rank = dims.len() as i64;
    let clamp = |bound: i64| {
        let bound = if bound < 0 { bound + rank } else { bound };
        bound.clamp(0, rank) as usize
    };
    let (first, last) = (clamp(start), clamp(end.unwrap_or(rank)));
    let extents: Vec<i64> = dims[first..last.max(first)]
        .iter()
        .map(|&dim| dim as i64)
        .collect();
    Ok(vec![HostTensor::from_i64(&[extents.len()], extents)?])
}

/// ConstantOfShape `(shape)`: `value` (one element, any dtype) repeated over `shape`.
pub(crate) fn constant_of_shape(value: &HostTensor, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let shape = integer_values(required(inputs, 0)?, "shape")?
        .into_iter()
        .map(|dim| usize::try_from(dim).map_err(|_| invalid(format!("negative extent {dim}"))))
        .collect::<Result<Vec<usize>>>()?;
    if value.len() != 1 {
        return Err(invalid(format!(
            "value must hold one element, got shape {:?}",
            value.shape()
        )));
    }
    let count = output_len(&shape)?;
    let data = with_element_type!(value.dtype(), T => {
        T::into_data(vec![elements::<T>(value, "value")?[0]; count])
    });
    Ok(vec![HostTensor::new(&shape, data)?])
}

/// Range `(start, limit, delta)`: `start + i·delta` for `i < max(0, ceil((limit − start) /
/// delta))`, in the inputs' dtype (floats computed in f64).
pub(crate) fn range(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 3, 3)?;
    let start = required(inputs, 0)?;
    let (limit, delta) = (required(inputs, 1)?, required(inputs, 2)?);
    expect_same_dtype(start, limit, "limit")?;
    expect_same_dtype(start, delta, "delta")?;
    let dtype = start.dtype();
    let output = if is_float(dtype) {
        let first = scalar_f64(start, "start")?;
        let step = scalar_f64(delta, "delta")?;
        let steps = ((scalar_f64(limit, "limit")? - first) / step).ceil();
        if step == 0.0 || steps.is_nan() || steps == f64::INFINITY {
            return Err(bad_value(format!(
                "Range from {first} by {step} never ends"
            )));
        }
        let count = output_len(&[steps.max(0.0) as usize])?;
        let values = (0..count).map(|i| first + i as f64 * step);
        tensor_from_f64(dtype, &[count], values)?
    } else if is_integer(dtype) {
        let scalar = |t: &HostTensor, what: &str| match t.to_i64_vec("")?[..] {
            [value] => Ok(i128::from(value)),
            _ => Err(invalid(format!("{what} must hold one value"))),
        };
        let (first, step) = (scalar(start, "start")?, scalar(delta, "delta")?);
        if step == 0 {
            return Err(bad_value("Range with delta 0 never ends"));
        }
        let span = scalar(limit, "limit")? - first;
        let steps = (span / step + i128::from(span % step != 0 && (span > 0) == (step > 0))).max(0);
        let count = output_len(&[usize::try_from(steps).unwrap_or(usize::MAX)])?;
        let values = (0..count as i128).map(|i| (first + i * step) as i64);
        tensor_from_i64(dtype, &[count], values)?
    } else {
        return Err(unsupported(format!("Range over {dtype}")));
    };
    Ok(vec![output])
}

/// Identity: the input, copied.
pub(crate) fn identity(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    Ok(vec![required(inputs, 0)?.clone()])
}

/// Dropout `(x, ratio?, training_mode?)` in inference: x, and when `outputs` is 2 the mask (all
/// true). Training mode (random masks) is unsupported.
pub(crate) fn dropout(outputs: usize, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 3)?;
    let x = required(inputs, 0)?;
    if let Some(training) = optional(inputs, 2) {
        if training.to_f64_vec().iter().any(|&flag| flag != 0.0) {
            return Err(unsupported("Dropout in training mode"));
        }
    }
    match outputs {
        1 => Ok(vec![x.clone()]),
        2 => {
            let mask = HostTensor::new(x.shape(), TensorData::Bool(vec![true; x.len()]))?;
            Ok(vec![x.clone(), mask])
        }
        _ => Err(invalid(format!(
            "has {outputs} outputs; Dropout has 1 or 2"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::DType;

    fn t(shape: &[usize], data: TensorData) -> HostTensor {
        HostTensor::new(shape, data).unwrap()
    }

    #[test]
    fn gather_negative_indices_and_matrix_indices() {
        let data = t(&[2, 3], TensorData::I32(vec![0, 1, 2, 3, 4, 5]));
        let indices = t(&[2, 2], TensorData::I64(vec![-1, 0, 1, 1]));
        let gathered = gather(1, &[Some(&data), Some(&indices)]).unwrap();
        assert_eq!(gathered[0].shape(), &[2, 2, 2]);
        assert_eq!(
            gathered[0].data(),
            &TensorData::I32(vec![2, 0, 1, 1, 5, 3, 4, 4])
        );
        let scalar = t(&[], TensorData::I32(vec![1]));
        let row = gather(0, &[Some(&data), Some(&scalar)]).unwrap();
        assert_eq!((row[0].shape(), row[0].len()), (&[3][..], 3));
        let outside = t(&[1], TensorData::I64(vec![3]));
        let error = gather(1, &[Some(&data), Some(&outside)]).unwrap_err();
        assert!(matches!(error, crate::Error::InvalidArgument { .. }));
        let floats = t(&[1], TensorData::F32(vec![0.0]));
        assert!(gather(0, &[Some(&data), Some(&floats)]).is_err());
    }

    #[test]
    fn shape_slices_and_clamps() {
        let x = HostTensor::zeros(&[2, 3, 4], DType::F16).unwrap();
        let all = shape(0, None, &[Some(&x)]).unwrap();
        assert_eq!(all[0].data(), &TensorData::I64(vec![2, 3, 4]));
        let tail = shape(-2, Some(10), &[Some(&x)]).unwrap();
        assert_eq!(tail[0].data(), &TensorData::I64(vec![3, 4]));
        let none = shape(2, Some(1), &[Some(&x)]).unwrap();
        assert_eq!(none[0].shape(), &[0]);
    }

    #[test]
    fn constant_of_shape_fills_any_dtype() {
        let value = t(&[1], TensorData::I32(vec![7]));
        let dims = t(&[2], TensorData::I64(vec![2, 1]));
        let filled = constant_of_shape(&value, &[Some(&dims)]).unwrap();
        assert_eq!(filled[0].data(), &TensorData::I32(vec![7, 7]));
        let scalar = constant_of_shape(&value, &[Some(&t(&[0], TensorData::I64(vec![])))]);
        assert_eq!(scalar.unwrap()[0].shape(), &[] as &[usize]);
        let huge = t(&[2], TensorData::I64(vec![1 << 40, 1 << 40]));
        assert!(constant_of_shape(&value, &[Some(&huge)]).is_err());
    }

    #[test]
    fn range_counts_like_onnx() {
        let i = |v: i32| t(&[], TensorData::I32(vec![v]));
        let down = range(&[Some(&i(10)), Some(&i(4)), Some(&i(-3))]).unwrap();
        assert_eq!(down[0].data(), &TensorData::I32(vec![10, 7]));
        let empty = range(&[Some(&i(1)), Some(&i(1)), Some(&i(2))]).unwrap();
        assert_eq!(empty[0].shape(), &[0]);
        assert!(range(&[Some(&i(0)), Some(&i(1)), Some(&i(0))]).is_err());
        let f = |v: f32| t(&[], TensorData::F32(vec![v]));
        let floats = range(&[Some(&f(1.0)), Some(&f(2.0)), Some(&f(0.25))]).unwrap();
        assert_eq!(floats[0].as_f32().unwrap(), &[1.0, 1.25, 1.5, 1.75]);
        assert!(range(&[Some(&f(0.0)), Some(&f(f32::INFINITY)), Some(&f(1.0))]).is_err());
        assert!(range(&[Some(&f(0.0)), Some(&f(1.0)), Some(&i(1))]).is_err());
    }

    #[test]
    fn dropout_passes_through_with_a_mask() {
        let x = t(&[2], TensorData::F32(vec![1.0, 2.0]));
        let both = dropout(2, &[Some(&x)]).unwrap();
        assert_eq!(both[0], x);
        assert_eq!(both[1].data(), &TensorData::Bool(vec![true, true]));
        let training = t(&[], TensorData::Bool(vec![true]));
        assert!(dropout(1, &[Some(&x), None, Some(&training)]).is_err());
        assert_eq!(identity(&[Some(&x)]).unwrap()[0], x);
    }
}
