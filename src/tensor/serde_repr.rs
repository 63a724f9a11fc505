//! Serde representations for the values JSON cannot hold as they are, used by the derives on
//! [`crate::graph::Op`] and its attribute types (the `.kiln` header, `crate::format`, is JSON):
//!
//! - floats: JSON has no NaN or infinity (serde_json writes `null` and cannot read it back), yet a
//!   fused Clip has infinite bounds. [`float32`] and [`float64`] write a finite value as a JSON
//!   number, widened to f64 so that it reads back bit-exactly, and the others as the strings
//!   `"inf"`, `"-inf"` and `"nan"`;
//! - [`host_tensor`]: a small constant tensor (ConstantOfShape's fill value) as its dtype, shape and
//!   little-endian bytes, rebuilt through [`HostTensor::from_le_bytes`], which checks the byte
//!   count against the shape.

use crate::tensor::{DType, HostTensor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A float as JSON holds it: a number, or the name of a non-finite value.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum FloatRepr {
    Finite(f64),
    NonFinite(String),
}

fn float_repr(value: f64) -> FloatRepr {
    if value.is_finite() {
        FloatRepr::Finite(value)
    } else if value.is_nan() {
        FloatRepr::NonFinite("nan".into())
    } else if value > 0.0 {
        FloatRepr::NonFinite("inf".into())
    } else {
        FloatRepr::NonFinite("-inf".into())
    }
}

fn float_value<E: serde::de::Error>(repr: FloatRepr) -> Result<f64, E> {
    match repr {
        FloatRepr::Finite(value) => Ok(value),
        FloatRepr::NonFinite(name) => match name.as_str() {
            "nan" => Ok(f64::NAN),
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            _ => Err(E::custom(format!(
                "'{name}' is not a number, 'inf', '-inf' or 'nan'"
            ))),
        },
    }
}

/// `#[serde(with = "float32")]` for an `f32` field that may be non-finite.
pub mod float32 {
    use super::*;

    /// Writes `value` (exactly, through f64) or its non-finite name.
    pub fn serialize<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
        float_repr(f64::from(*value)).serialize(serializer)
    }

    /// Reads a number or a non-finite name; a finite number outside f32's range is an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
        let value = float_value(FloatRepr::deserialize(deserializer)?)?;
        let narrowed = value as f32;
        if value.is_finite() && !narrowed.is_finite() {
            return Err(serde::de::Error::custom(format!(
                "{value} is outside f32's range"
            )));
        }
        Ok(narrowed)
    }
}

/// `#[serde(with = "float64")]` for an `f64` field that may be non-finite.
pub mod float64 {
    use super::*;

    /// Writes `value` or its non-finite name.
    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        float_repr(*value).serialize(serializer)
    }

    /// Reads a number or a non-finite name.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        float_value(FloatRepr::deserialize(deserializer)?)
    }
}

/// A [`HostTensor`] as JSON holds it.
#[derive(Serialize, Deserialize)]
struct TensorRepr {
    dtype: DType,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

/// `#[serde(with = "host_tensor")]` for a small [`HostTensor`] field.
pub mod host_tensor {
    use super::*;

    /// Writes the tensor's dtype, shape and little-endian bytes.
    pub fn serialize<S: Serializer>(tensor: &HostTensor, serializer: S) -> Result<S::Ok, S::Error> {
        TensorRepr {
            dtype: tensor.dtype(),
            shape: tensor.shape().to_vec(),
            bytes: tensor.to_le_bytes(),
        }
        .serialize(serializer)
    }

    /// Reads them back; bytes that do not fill the shape exactly are an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<HostTensor, D::Error> {
        let repr = TensorRepr::deserialize(deserializer)?;
        HostTensor::from_le_bytes(&repr.shape, repr.dtype, &repr.bytes)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Floats {
        #[serde(with = "float32")]
        single: f32,
        #[serde(with = "float64")]
        double: f64,
    }

    fn round_trip(single: f32, double: f64) -> Floats {
        let text = serde_json::to_string(&Floats { single, double }).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn floats_round_trip_bit_exactly_with_infinities() {
        for single in [0.1f32, -3.4e38, 1e-45, f32::INFINITY, f32::NEG_INFINITY] {
            let back = round_trip(single, f64::from(single));
            assert_eq!(back.single.to_bits(), single.to_bits());
            assert_eq!(back.double, f64::from(single));
        }
        assert!(round_trip(f32::NAN, f64::NAN).single.is_nan());
    }

    #[test]
    fn out_of_range_floats_are_errors() {
        let too_big = r#"{"single": 1e300, "double": 0}"#;
        assert!(serde_json::from_str::<Floats>(too_big).is_err());
        let unknown = r#"{"single": "huge", "double": 0}"#;
        assert!(serde_json::from_str::<Floats>(unknown).is_err());
    }
}
