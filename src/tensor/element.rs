//! Element types on the host. [`HostElement`] lets the data-movement ops (Concat, Slice, Gather,
//! Where, ...) be written once for every dtype, with [`with_element_type!`] choosing the Rust type
//! from a [`DType`]. Arithmetic does not need the generics: it computes on f64 (float tensors) or
//! i64 (integer tensors) values and converts back with [`tensor_from_f64`] / [`tensor_from_i64`].

use crate::error::{Error, Result};
use crate::tensor::{DType, HostTensor, TensorData};
use half::f16;

/// A Rust type one [`TensorData`] variant holds.
pub(crate) trait HostElement: Copy + Default + 'static {
    /// The dtype of this element type.
    const DTYPE: DType;
    /// The elements of `data` if it holds this type.
    fn slice(data: &TensorData) -> Option<&[Self]>;
    /// Wraps `values` as tensor data.
    fn into_data(values: Vec<Self>) -> TensorData;
    /// `x` converted as numpy's `astype` converts a float: rounded to nearest for floats,
    /// truncated toward zero for integers (saturating out of range, NaN to 0), `x != 0` for bool.
    fn from_f64(x: f64) -> Self;
    /// `x` converted as numpy's `astype` converts an integer: wrapping for integers, rounded to
    /// nearest for floats, `x != 0` for bool.
    fn from_i64(x: i64) -> Self;
}

/// Element types whose numpy conversions are Rust's `as` casts.
macro_rules! cast_element {
    ($rust:ty, $variant:ident) => {
        impl HostElement for $rust {
            const DTYPE: DType = DType::$variant;
            fn slice(data: &TensorData) -> Option<&[Self]> {
                match data {
                    TensorData::$variant(values) => Some(values),
                    _ => None,
                }
            }
            fn into_data(values: Vec<Self>) -> TensorData {
                TensorData::$variant(values)
            }
            fn from_f64(x: f64) -> Self {
                x as $rust
            }
            fn from_i64(x: i64) -> Self {
                x as $rust
            }
        }
    };
}

cast_element!(i8, I8);
cast_element!(u8, U8);
cast_element!(i32, I32);
cast_element!(i64, I64);
cast_element!(f32, F32);

impl HostElement for f16 {
    const DTYPE: DType = DType::F16;
    fn slice(data: &TensorData) -> Option<&[Self]> {
        match data {
            TensorData::F16(values) => Some(values),
            _ => None,
        }
    }
    fn into_data(values: Vec<Self>) -> TensorData {
        TensorData::F16(values)
    }
    fn from_f64(x: f64) -> Self {
        f16::from_f64(x)
    }
    fn from_i64(x: i64) -> Self {
        f16::from_f64(x as f64)
    }
}

impl HostElement for bool {
    const DTYPE: DType = DType::Bool;
    fn slice(data: &TensorData) -> Option<&[Self]> {
        match data {
            TensorData::Bool(values) => Some(values),
            _ => None,
        }
    }
    fn into_data(values: Vec<Self>) -> TensorData {
        TensorData::Bool(values)
    }
    fn from_f64(x: f64) -> Self {
        x != 0.0
    }
    fn from_i64(x: i64) -> Self {
        x != 0
    }
}

/// Evaluates `$body` with the type alias `$T` naming the Rust element type of `$dtype`:
/// `with_element_type!(x.dtype(), T => transpose::<T>(x, perm))`.
macro_rules! with_element_type {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::tensor::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::tensor::DType::F16 => {
                type $T = half::f16;
                $body
            }
            $crate::tensor::DType::I8 => {
                type $T = i8;
                $body
            }
            $crate::tensor::DType::U8 => {
                type $T = u8;
                $body
            }
            $crate::tensor::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::tensor::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::tensor::DType::Bool => {
                type $T = bool;
                $body
            }
        }
    };
}
pub(crate) use with_element_type;

/// The elements of `tensor` as `T`; an error naming `what` when its dtype is another.
pub(crate) fn elements<'t, T: HostElement>(tensor: &'t HostTensor, what: &str) -> Result<&'t [T]> {
    T::slice(tensor.data()).ok_or_else(|| Error::InvalidModel {
        location: String::new(),
        detail: format!("{what} is {}, expected {}", tensor.dtype(), T::DTYPE),
    })
}

/// Whether `dtype` is f32 or f16.
pub(crate) fn is_float(dtype: DType) -> bool {
    matches!(dtype, DType::F32 | DType::F16)
}

/// Whether `dtype` is a signed or unsigned integer type.
pub(crate) fn is_integer(dtype: DType) -> bool {
    matches!(dtype, DType::I8 | DType::U8 | DType::I32 | DType::I64)
}

/// A `dtype` tensor of `shape` from f64 values, each converted by [`HostElement::from_f64`].
pub(crate) fn tensor_from_f64(
    dtype: DType,
    shape: &[usize],
    values: impl IntoIterator<Item = f64>,
) -> Result<HostTensor> {
    let values = values.into_iter();
    let data = with_element_type!(dtype, T => T::into_data(values.map(T::from_f64).collect()));
    HostTensor::new(shape, data)
}

/// A `dtype` tensor of `shape` from i64 values, each converted by [`HostElement::from_i64`].
pub(crate) fn tensor_from_i64(
    dtype: DType,
    shape: &[usize],
    values: impl IntoIterator<Item = i64>,
) -> Result<HostTensor> {
    let values = values.into_iter();
    let data = with_element_type!(dtype, T => T::into_data(values.map(T::from_i64).collect()));
    HostTensor::new(shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_follow_numpy_astype() {
        let from_float = tensor_from_f64(DType::I8, &[4], [2.9, -2.9, 300.0, f64::NAN]).unwrap();
        assert_eq!(from_float.data(), &TensorData::I8(vec![2, -2, 127, 0]));
        let wrapped = tensor_from_i64(DType::U8, &[2], [256 + 7, -1]).unwrap();
        assert_eq!(wrapped.data(), &TensorData::U8(vec![7, 255]));
        let flags = tensor_from_f64(DType::Bool, &[3], [0.0, -0.5, f64::NAN]).unwrap();
        assert_eq!(flags.data(), &TensorData::Bool(vec![false, true, true]));
        let halves = tensor_from_i64(DType::F16, &[1], [3]).unwrap();
        assert_eq!(halves.data(), &TensorData::F16(vec![f16::from_f32(3.0)]));
    }

    #[test]
    fn dispatch_names_every_dtype() {
        for dtype in DType::ALL {
            let tensor = HostTensor::zeros(&[2], dtype).unwrap();
            let count = with_element_type!(dtype, T => elements::<T>(&tensor, "x").unwrap().len());
            assert_eq!(count, 2);
        }
        let tensor = HostTensor::zeros(&[2], DType::I32).unwrap();
        assert!(elements::<f32>(&tensor, "x").is_err());
    }
}
