//! The shape-only ops for every dtype: Reshape, Flatten, Squeeze and Unsqueeze keep the elements
//! and change the shape ([`reshape_shape`], [`flatten_shape`], [`squeeze_shape`],
//! [`unsqueeze_shape`]); Expand broadcasts to a shape.

use crate::error::Result;
use crate::graph::eval::args::{
    expect_arity, integer_values, invalid, optional_non_empty, required, Inputs,
};
use crate::graph::eval::broadcast::broadcast_offsets;
use crate::graph::eval::element::{elements, with_element_type, HostElement};
use crate::ops::layout::{flatten_shape, reshape_shape, squeeze_shape, unsqueeze_shape};
use crate::tensor::HostTensor;

/// Reshape `(x, shape)`.
pub(crate) fn reshape(allow_zero: bool, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 2)?;
    let x = required(inputs, 0)?;
    let spec = integer_values(required(inputs, 1)?, "shape")?;
    let shape = reshape_shape(x.shape(), &spec, allow_zero)?;
    Ok(vec![x.clone().reshaped(&shape)?])
}

/// Flatten to 2-D at `axis`.
pub(crate) fn flatten(axis: i64, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let x = required(inputs, 0)?;
    Ok(vec![x
        .clone()
        .reshaped(&flatten_shape(x.shape(), axis)?)?])
}

/// Squeeze `(x, axes?)`; without axes (or with an empty list) every extent-1 axis goes.
pub(crate) fn squeeze(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 2)?;
    let x = required(inputs, 0)?;
    let axes = optional_non_empty(inputs, 1)
        .map(|axes| integer_values(axes, "axes"))
        .transpose()?;
    let shape = squeeze_shape(x.shape(), axes.as_deref())?;
    Ok(vec![x.clone().reshaped(&shape)?])
}

/// Unsqueeze `(x, axes)`.
pub(crate) fn unsqueeze(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 2)?;
    let x = required(inputs, 0)?;
    let axes = integer_values(required(inputs, 1)?, "axes")?;
    Ok(vec![x
        .clone()
        .reshaped(&unsqueeze_shape(x.shape(), &axes)?)?])
}

/// Expand `(x, shape)`: x broadcast with `shape` (numpy rules both ways, so a 1 in `shape` keeps
/// x's extent).
pub(crate) fn expand(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 2)?;
    let x = required(inputs, 0)?;
    let target = integer_values(required(inputs, 1)?, "shape")?
        .into_iter()
        .map(|dim| usize::try_from(dim).map_err(|_| invalid(format!("negative extent {dim}"))))
        .collect::<Result<Vec<usize>>>()?;
    let (shape, offsets) = broadcast_offsets(&[x.shape(), &target])?;
    let data = with_element_type!(x.dtype(), T => {
        let values = elements::<T>(x, "x")?;
        T::into_data(offsets[0].iter().map(|&offset| values[offset]).collect())
    });
    Ok(vec![HostTensor::new(&shape, data)?])
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
    fn shape_ops_keep_the_elements() {
        let x = t(&[2, 3, 1], TensorData::Bool(vec![true; 6]));
        let reshaped = reshape(false, &[Some(&x), Some(&i64s(&[0, -1]))]).unwrap();
        assert_eq!(reshaped[0].shape(), &[2, 3]);
        let zero = t(&[0, 3], TensorData::Bool(vec![]));
        let kept = reshape(true, &[Some(&zero), Some(&i64s(&[3, 0]))]).unwrap();
        assert_eq!(kept[0].shape(), &[3, 0]);
        assert!(reshape(false, &[Some(&x), Some(&i64s(&[4, -1]))]).is_err());
        let flat = flatten(-1, &[Some(&x)]).unwrap();
        assert_eq!(flat[0].shape(), &[6, 1]);
        let squeezed = squeeze(&[Some(&x)]).unwrap();
        assert_eq!(squeezed[0].shape(), &[2, 3]);
        let by_axis = squeeze(&[Some(&x), Some(&i64s(&[-1]))]).unwrap();
        assert_eq!(by_axis[0].shape(), &[2, 3]);
        assert!(squeeze(&[Some(&x), Some(&i64s(&[0]))]).is_err());
        let unsqueezed = unsqueeze(&[Some(&x), Some(&i64s(&[0, -1]))]).unwrap();
        assert_eq!(unsqueezed[0].shape(), &[1, 2, 3, 1, 1]);
    }

    #[test]
    fn expand_broadcasts_both_ways() {
        let x = t(&[3, 1], TensorData::I8(vec![1, 2, 3]));
        let expanded = expand(&[Some(&x), Some(&i64s(&[2, 1, 2]))]).unwrap();
        assert_eq!(expanded[0].shape(), &[2, 3, 2]);
        assert_eq!(
            expanded[0].data(),
            &TensorData::I8(vec![1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
        );
        assert!(expand(&[Some(&x), Some(&i64s(&[2, 2]))]).is_err());
        assert!(expand(&[Some(&x), Some(&i64s(&[-1]))]).is_err());
        assert!(expand(&[Some(&x), Some(&i64s(&[1 << 40, 1]))]).is_err());
    }
}
