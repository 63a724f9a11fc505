//! Reading a node's inputs: the arity check, required and optional inputs, their values in the
//! forms the references take (f32 for float tensors, i64 for shapes, axes and indices), and the
//! errors the op files raise. Those errors carry no location; [`super::eval_node`] adds the node's.

use crate::error::{Error, Result};
use crate::graph::eval::element::is_integer;
use crate::tensor::{element_count, HostTensor, TensorData};
use std::borrow::Cow;

/// The most elements one output may hold (2³⁰, 4 GiB of f32). Output sizes that come from tensor
/// values or attributes (Expand's shape, Pad's pads, Range's limit, a broadcast) are checked
/// against it before anything is allocated, so a hostile model is an error, not an abort.
pub(crate) const MAX_OUTPUT_ELEMENTS: usize = 1 << 30;

/// A node's inputs as [`super::eval_node`] receives them.
pub(crate) type Inputs<'a, 'b> = &'a [Option<&'b HostTensor>];

/// An [`Error::InvalidModel`] for the node being evaluated (wrong arity, attributes that do not
/// fit the inputs).
pub(crate) fn invalid(detail: impl Into<String>) -> Error {
    Error::InvalidModel {
        location: String::new(),
        detail: detail.into(),
    }
}

/// An [`Error::Unsupported`] for the node being evaluated (a dtype or mode kiln lacks).
pub(crate) fn unsupported(detail: impl Into<String>) -> Error {
    Error::Unsupported {
        location: String::new(),
        detail: detail.into(),
    }
}

/// An [`Error::ShapeMismatch`] for the node being evaluated.
pub(crate) fn shape_error(detail: impl Into<String>) -> Error {
    Error::ShapeMismatch {
        op: "",
        detail: detail.into(),
    }
}

/// An [`Error::InvalidArgument`] for a value the node cannot take (an index out of range, an
/// integer division by zero).
pub(crate) fn bad_value(detail: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op: "",
        detail: detail.into(),
    }
}

/// Checks that there are between `min` and `max` inputs and that the first `min` are present.
pub(crate) fn expect_arity(inputs: Inputs, min: usize, max: usize) -> Result<()> {
    if inputs.len() < min || inputs.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(invalid(format!(
            "takes {expected} inputs, got {}",
            inputs.len()
        )));
    }
    match inputs[..min].iter().position(Option::is_none) {
        Some(index) => Err(invalid(format!("required input {index} is missing"))),
        None => Ok(()),
    }
}

/// Input `index`, which must be present.
pub(crate) fn required<'b>(inputs: Inputs<'_, 'b>, index: usize) -> Result<&'b HostTensor> {
    optional(inputs, index).ok_or_else(|| invalid(format!("required input {index} is missing")))
}

/// Input `index` if present.
pub(crate) fn optional<'b>(inputs: Inputs<'_, 'b>, index: usize) -> Option<&'b HostTensor> {
    inputs.get(index).copied().flatten()
}

/// Input `index` if present and not empty: opsets before 13 mark unused optional inputs (Resize's
/// scales, Clip's bounds) with empty tensors.
pub(crate) fn optional_non_empty<'b>(
    inputs: Inputs<'_, 'b>,
    index: usize,
) -> Option<&'b HostTensor> {
    optional(inputs, index).filter(|tensor| !tensor.is_empty())
}

/// The elements of a float (f32 or f16) tensor as f32, the element type the references take.
pub(crate) fn float_values<'t>(tensor: &'t HostTensor, what: &str) -> Result<Cow<'t, [f32]>> {
    match tensor.data() {
        TensorData::F32(values) => Ok(Cow::Borrowed(values)),
        TensorData::F16(values) => Ok(Cow::Owned(values.iter().map(|x| x.to_f32()).collect())),
        _ => Err(unsupported(format!(
            "{what} is {}; this op takes f32 or f16",
            tensor.dtype()
        ))),
    }
}

/// The elements of an integer tensor (a shape, axes, pads, indices) as i64.
pub(crate) fn integer_values(tensor: &HostTensor, what: &str) -> Result<Vec<i64>> {
    if !is_integer(tensor.dtype()) {
        return Err(invalid(format!(
            "{what} must be an integer tensor, got {}",
            tensor.dtype()
        )));
    }
    tensor.to_i64_vec("")
}

/// The single element of a one-element tensor, as f64.
pub(crate) fn scalar_f64(tensor: &HostTensor, what: &str) -> Result<f64> {
    match tensor.to_f64_vec()[..] {
        [value] => Ok(value),
        _ => Err(invalid(format!(
            "{what} must hold one value, got shape {:?}",
            tensor.shape()
        ))),
    }
}

/// The element count of `shape`, or an error when it, or any one extent (an empty tensor can
/// have a huge one, which per-axis tables would allocate), exceeds [`MAX_OUTPUT_ELEMENTS`].
pub(crate) fn output_len(shape: &[usize]) -> Result<usize> {
    let count = element_count(shape)?;
    if count > MAX_OUTPUT_ELEMENTS || shape.iter().any(|&extent| extent > MAX_OUTPUT_ELEMENTS) {
        return Err(bad_value(format!(
            "the output shape {shape:?} holds {count} elements, more than the CPU backend's \
             limit of {MAX_OUTPUT_ELEMENTS}"
        )));
    }
    Ok(count)
}

/// Checks that `tensor` has the same dtype as `first`, naming it `what`.
pub(crate) fn expect_same_dtype(first: &HostTensor, tensor: &HostTensor, what: &str) -> Result<()> {
    if first.dtype() != tensor.dtype() {
        return Err(invalid(format!(
            "{what} is {}, but the first input is {}",
            tensor.dtype(),
            first.dtype()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arity_and_presence_are_checked() {
        let x = HostTensor::from_f32(&[1], vec![1.0]).unwrap();
        assert!(expect_arity(&[Some(&x)], 1, 2).is_ok());
        assert!(expect_arity(&[], 1, 2).is_err());
        assert!(expect_arity(&[Some(&x), None, None], 1, 2).is_err());
        assert!(expect_arity(&[None, Some(&x)], 1, 2).is_err());
        assert!(required(&[Some(&x), None], 1).is_err());
        assert!(optional(&[Some(&x)], 5).is_none());
    }

    #[test]
    fn values_are_read_in_the_references_forms() {
        let halves = HostTensor::new(&[2], TensorData::F16(vec![half::f16::ONE; 2])).unwrap();
        assert_eq!(float_values(&halves, "x").unwrap().as_ref(), &[1.0, 1.0]);
        let indices = HostTensor::new(&[2], TensorData::I32(vec![-1, 3])).unwrap();
        assert_eq!(integer_values(&indices, "i").unwrap(), vec![-1, 3]);
        assert!(integer_values(&halves, "i").is_err());
        assert!(float_values(&indices, "x").is_err());
        assert!(scalar_f64(&indices, "s").is_err());
        assert!(output_len(&[MAX_OUTPUT_ELEMENTS, 2]).is_err());
        assert!(output_len(&[usize::MAX, 2]).is_err());
        assert!(output_len(&[0, MAX_OUTPUT_ELEMENTS + 1]).is_err());
    }
}
