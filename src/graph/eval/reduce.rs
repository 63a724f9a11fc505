//! ReduceSum, ReduceMean, ReduceMax and ArgMax of f32 and f16 tensors through
//! [`reference_reduce`]: axes from the optional input (absent or empty: every axis, or none with
//! `noop_with_empty_axes`), reduced axes kept as 1 with `keepdims`. ArgMax gives i64 indices.

use crate::error::Result;
use crate::graph::eval::args::{
    bad_value, expect_arity, float_values, integer_values, optional, required, Inputs,
};
use crate::graph::eval::element::tensor_from_f64;
use crate::ops::reduce::{reference_reduce, ReduceKind, Reduction};
use crate::tensor::shape::normalize_axis;
use crate::tensor::HostTensor;

/// Reduce `(x, axes?)` with `kind` (Sum, Mean or Max).
pub(crate) fn reduce(
    kind: ReduceKind,
    keepdims: bool,
    noop_with_empty_axes: bool,
    inputs: Inputs,
) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 2)?;
    let x = required(inputs, 0)?;
    let axes = match optional(inputs, 1) {
        Some(axes) => integer_values(axes, "axes")?,
        None => Vec::new(),
    };
    let values = float_values(x, "data")?;
    if axes.is_empty() && noop_with_empty_axes {
        return Ok(vec![x.clone()]);
    }
    let reference = reference_reduce(kind, &values, x.shape(), &axes, keepdims)?;
    Ok(vec![tensor_from_f64(
        x.dtype(),
        &reference.shape,
        reference.output,
    )?])
}

/// ArgMax `(x)` along `axis`: the index of the largest element (NaN counts as largest), the first
/// of ties unless `select_last_index`.
pub(crate) fn arg_max(
    axis: i64,
    keepdims: bool,
    select_last_index: bool,
    inputs: Inputs,
) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let x = required(inputs, 0)?;
    let values = float_values(x, "data")?;
    let normalized = normalize_axis("", axis, x.shape().len())?;
    if x.shape()[normalized] == 0 {
        return Err(bad_value(format!(
            "ArgMax along the empty axis {axis} of {:?}",
            x.shape()
        )));
    }
    let kind = Reduction::ArgMax { select_last_index };
    let reference = reference_reduce(kind, &values, x.shape(), &[axis], keepdims)?;
    let indices = reference.output.iter().map(|&index| index as i64).collect();
    Ok(vec![HostTensor::from_i64(&reference.shape, indices)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::TensorData;

    fn f32s(shape: &[usize], values: &[f32]) -> HostTensor {
        HostTensor::from_f32(shape, values.to_vec()).unwrap()
    }

    fn i64s(values: &[i64]) -> HostTensor {
        HostTensor::from_i64(&[values.len()], values.to_vec()).unwrap()
    }

    #[test]
    fn reduce_axes_keepdims_and_noop() {
        let x = f32s(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let sum = reduce(
            ReduceKind::Sum,
            false,
            false,
            &[Some(&x), Some(&i64s(&[-1]))],
        )
        .unwrap();
        assert_eq!(
            (sum[0].shape(), sum[0].as_f32().unwrap()),
            (&[2][..], &[6.0, 15.0][..])
        );
        let mean = reduce(ReduceKind::Mean, true, false, &[Some(&x)]).unwrap();
        assert_eq!(
            (mean[0].shape(), mean[0].as_f32().unwrap()),
            (&[1, 1][..], &[3.5][..])
        );
        let empty_axes = HostTensor::from_i64(&[0], vec![]).unwrap();
        let noop = reduce(ReduceKind::Max, true, true, &[Some(&x), Some(&empty_axes)]).unwrap();
        assert_eq!(noop[0], x);
        let all = reduce(
            ReduceKind::Max,
            false,
            false,
            &[Some(&x), Some(&empty_axes)],
        )
        .unwrap();
        assert_eq!(
            (all[0].shape(), all[0].as_f32().unwrap()),
            (&[][..], &[6.0][..])
        );
        let nothing = f32s(&[0, 2], &[]);
        let sums = reduce(
            ReduceKind::Sum,
            false,
            false,
            &[Some(&nothing), Some(&i64s(&[0]))],
        );
        assert_eq!(sums.unwrap()[0].as_f32().unwrap(), &[0.0, 0.0]);
        assert!(reduce(
            ReduceKind::Sum,
            false,
            false,
            &[Some(&x), Some(&i64s(&[0, 0]))]
        )
        .is_err());
    }

    #[test]
    fn arg_max_ties_and_errors() {
        let x = f32s(&[2, 3], &[1.0, 3.0, 3.0, 0.0, -1.0, 0.0]);
        let first = arg_max(1, false, false, &[Some(&x)]).unwrap();
        assert_eq!(first[0].data(), &TensorData::I64(vec![1, 0]));
        let last = arg_max(-1, true, true, &[Some(&x)]).unwrap();
        assert_eq!(last[0].shape(), &[2, 1]);
        assert_eq!(last[0].data(), &TensorData::I64(vec![2, 2]));
        let empty = f32s(&[2, 0], &[]);
        assert!(arg_max(1, false, false, &[Some(&empty)]).is_err());
        assert!(arg_max(2, false, false, &[Some(&x)]).is_err());
    }
}
