//! `TensorProto` to [`HostTensor`] and back. Reading checks the dtype, the dims and the data length
//! against each other before any element is allocated, so a hostile file cannot make kiln reserve
//! memory it does not hold; writing always uses little-endian `raw_data`.

use super::external::ExternalData;
use super::proto::{data_type, DataLocation, TensorProto};
use crate::error::{Error, Result};
use crate::limits;
use crate::tensor::{DType, HostTensor, TensorData};
use half::f16;

/// The kiln dtype of an ONNX `DataType` code, if kiln has one.
pub(crate) fn dtype_from_code(code: i32) -> Option<DType> {
    match code {
        data_type::FLOAT => Some(DType::F32),
        data_type::FLOAT16 => Some(DType::F16),
        data_type::INT8 => Some(DType::I8),
        data_type::UINT8 => Some(DType::U8),
        data_type::INT32 => Some(DType::I32),
        data_type::INT64 => Some(DType::I64),
        data_type::BOOL => Some(DType::Bool),
        _ => None,
    }
}

/// The ONNX `DataType` code of a kiln dtype.
pub(crate) fn dtype_code(dtype: DType) -> i32 {
    match dtype {
        DType::F32 => data_type::FLOAT,
        DType::F16 => data_type::FLOAT16,
        DType::I8 => data_type::INT8,
        DType::U8 => data_type::UINT8,
        DType::I32 => data_type::INT32,
        DType::I64 => data_type::INT64,
        DType::Bool => data_type::BOOL,
    }
}

/// The kiln dtype of `code`, or an error at `location` saying which types kiln reads.
pub(crate) fn supported_dtype(code: i32, location: &str) -> Result<DType> {
    if code == 0 {
        return Err(invalid(location, "has no data type (UNDEFINED)".into()));
    }
    dtype_from_code(code).ok_or_else(|| Error::Unsupported {
        location: location.to_string(),
        detail: format!(
            "data type {} is not supported (kiln reads FLOAT, FLOAT16, INT8, UINT8, INT32, INT64, BOOL)",
            data_type::name(code)
        ),
    })
}

/// A tensor shape from ONNX dims: each dim non-negative, the byte size within
/// [`limits::max_tensor_bytes`] (checked before anything is allocated or read, so a sparse
/// external file or a forged dim cannot make kiln reserve what it does not hold). Returns the
/// shape and the element count.
pub(crate) fn checked_shape(
    dims: &[i64],
    dtype: DType,
    location: &str,
) -> Result<(Vec<usize>, usize)> {
    let shape = dims
        .iter()
        .map(|&dim| usize::try_from(dim))
        .collect::<std::result::Result<Vec<usize>, _>>()
        .map_err(|_| invalid(location, format!("has a negative dimension in {dims:?}")))?;
    let bytes = limits::tensor_bytes(&shape, dtype, location)?;
    Ok((shape, bytes / dtype.size_bytes()))
}

/// Decodes `proto` into a tensor; `location` names it in errors (`initializer 'w'`), and
/// `external` reads data stored outside the model file.
pub(crate) fn tensor_from_proto(
    proto: &TensorProto,
    location: &str,
    external: &mut ExternalData,
) -> Result<HostTensor> {
    let dtype = supported_dtype(proto.data_type, location)?;
    if proto.segment.is_some() {
        return Err(Error::Unsupported {
            location: location.to_string(),
            detail: "segmented tensors (TensorProto.segment) are not supported".into(),
        });
    }
    let (shape, count) = checked_shape(&proto.dims, dtype, location)?;
    let byte_len = count * dtype.size_bytes();
    let typed_fields = typed_field_lengths(proto);
    if proto.data_location == DataLocation::External as i32 {
        if proto.raw_data.is_some() || typed_fields.iter().any(|(_, len)| *len > 0) {
            return Err(invalid(
                location,
                "has external data and inline data".into(),
            ));
        }
        let bytes = external.read(&proto.external_data, byte_len, location)?;
        return HostTensor::from_le_bytes(&shape, dtype, &bytes);
    }
    if proto.data_location != DataLocation::Default as i32 {
        return Err(invalid(
            location,
            format!("has unknown data_location {}", proto.data_location),
        ));
    }
    let filled: Vec<&str> = typed_fields
        .iter()
        .filter(|(_, len)| *len > 0)
        .map(|(name, _)| *name)
        .collect();
    if let Some(raw) = &proto.raw_data {
        if !filled.is_empty() {
            return Err(invalid(
                location,
                format!("has raw_data and {}", filled.join(", ")),
            ));
        }
        if raw.len() != byte_len {
            return Err(invalid(
                location,
                format!(
                    "raw_data holds {} bytes, but {dtype} dims {:?} need {byte_len}",
                    raw.len(),
                    proto.dims
                ),
            ));
        }
        return HostTensor::from_le_bytes(&shape, dtype, raw);
    }
    let expected_field = typed_field_name(dtype);
    if let Some(wrong) = filled.iter().find(|name| **name != expected_field) {
        return Err(invalid(location, format!("a {dtype} tensor holds {wrong}")));
    }
    let data = typed_data(proto, dtype, count, location)?;
    HostTensor::new(&shape, data)
}

/// The typed value fields of a tensor with their lengths.
fn typed_field_lengths(proto: &TensorProto) -> [(&'static str, usize); 6] {
    [
        ("float_data", proto.float_data.len()),
        ("int32_data", proto.int32_data.len()),
        ("int64_data", proto.int64_data.len()),
        ("double_data", proto.double_data.len()),
        ("uint64_data", proto.uint64_data.len()),
        ("string_data", proto.string_data.len()),
    ]
}

/// The typed field ONNX stores `dtype` in.
fn typed_field_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "float_data",
        DType::I64 => "int64_data",
        DType::F16 | DType::I8 | DType::U8 | DType::I32 | DType::Bool => "int32_data",
    }
}

/// The elements of a tensor stored in its typed field, checked for count and range.
fn typed_data(
    proto: &TensorProto,
    dtype: DType,
    count: usize,
    location: &str,
) -> Result<TensorData> {
    let stored = match dtype {
        DType::F32 => proto.float_data.len(),
        DType::I64 => proto.int64_data.len(),
        _ => proto.int32_data.len(),
    };
    if stored != count {
        return Err(invalid(
            location,
            format!(
                "{} holds {stored} elements, but dims {:?} need {count}",
                typed_field_name(dtype),
                proto.dims
            ),
        ));
    }
    let ints = &proto.int32_data;
    let narrow = |kind: &str| {
        invalid(
            location,
            format!("int32_data holds a value out of {kind} range"),
        )
    };
    Ok(match dtype {
        DType::F32 => TensorData::F32(proto.float_data.clone()),
        DType::I64 => TensorData::I64(proto.int64_data.clone()),
        DType::I32 => TensorData::I32(ints.clone()),
        DType::F16 => TensorData::F16(
            ints.iter()
                .map(|&bits| {
                    u16::try_from(bits)
                        .map(f16::from_bits)
                        .map_err(|_| narrow("FLOAT16 bit"))
                })
                .collect::<Result<_>>()?,
        ),
        DType::I8 => TensorData::I8(
            ints.iter()
                .map(|&v| i8::try_from(v).map_err(|_| narrow("INT8")))
                .collect::<Result<_>>()?,
        ),
        DType::U8 => TensorData::U8(
            ints.iter()
                .map(|&v| u8::try_from(v).map_err(|_| narrow("UINT8")))
                .collect::<Result<_>>()?,
        ),
        DType::Bool => TensorData::Bool(ints.iter().map(|&v| v != 0).collect()),
    })
}

/// `tensor` as a `TensorProto` named `name`, its elements in `raw_data`.
pub(crate) fn tensor_to_proto(name: &str, tensor: &HostTensor) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: tensor.shape().iter().map(|&dim| dim as i64).collect(),
        data_type: dtype_code(tensor.dtype()),
        raw_data: Some(tensor.to_le_bytes()),
        ..Default::default()
    }
}

fn invalid(location: &str, detail: String) -> Error {
    Error::InvalidModel {
        location: location.to_string(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(proto: &TensorProto) -> Result<HostTensor> {
        tensor_from_proto(proto, "tensor 't'", &mut ExternalData::new(None))
    }

    fn proto(dims: &[i64], data_type: i32) -> TensorProto {
        TensorProto {
            name: "t".into(),
            dims: dims.to_vec(),
            data_type,
            ..Default::default()
        }
    }

    #[test]
    fn every_dtype_round_trips_through_raw_data() {
        for dtype in DType::ALL {
            let bytes: Vec<u8> = (0..6 * dtype.size_bytes()).map(|i| (i % 2) as u8).collect();
            let tensor = HostTensor::from_le_bytes(&[3, 2], dtype, &bytes).unwrap();
            assert_eq!(
                decode(&tensor_to_proto("t", &tensor)).unwrap(),
                tensor,
                "{dtype}"
            );
        }
    }

    #[test]
    fn typed_fields_decode_with_range_checks() {
        let mut half = proto(&[2], data_type::FLOAT16);
        half.int32_data = vec![0x3c00, 0xc000];
        let values = decode(&half).unwrap().to_f64_vec();
        assert_eq!(values, vec![1.0, -2.0]);
        let mut signed = proto(&[2], data_type::INT8);
        signed.int32_data = vec![-128, 200];
        assert!(matches!(decode(&signed), Err(Error::InvalidModel { .. })));
        let mut scalar = proto(&[], data_type::INT64);
        scalar.int64_data = vec![7];
        assert_eq!(decode(&scalar).unwrap().shape(), &[] as &[usize]);
    }

    #[test]
    fn mismatched_lengths_and_fields_are_invalid() {
        let mut short = proto(&[4], data_type::FLOAT);
        short.raw_data = Some(vec![0; 12]);
        let message = decode(&short).unwrap_err().to_string();
        assert!(
            message.contains("12 bytes") && message.contains("need 16"),
            "{message}"
        );
        let mut wrong_field = proto(&[1], data_type::INT64);
        wrong_field.float_data = vec![1.0];
        assert!(decode(&wrong_field)
            .unwrap_err()
            .to_string()
            .contains("float_data"));
        let mut both = proto(&[1], data_type::FLOAT);
        both.float_data = vec![1.0];
        both.raw_data = Some(vec![0; 4]);
        assert!(decode(&both).is_err());
    }

    #[test]
    fn hostile_dims_fail_before_allocating() {
        let negative = proto(&[2, -1], data_type::FLOAT);
        assert!(decode(&negative)
            .unwrap_err()
            .to_string()
            .contains("negative"));
        let enormous = proto(&[1 << 40, 1 << 40], data_type::FLOAT);
        let error = decode(&enormous).unwrap_err();
        assert!(matches!(error, Error::OverLimit { .. }), "{error}");
        // Under the cap but with no data: refused by the count check, nothing allocated.
        let no_data = proto(&[1 << 20], data_type::FLOAT);
        assert!(decode(&no_data).unwrap_err().to_string().contains("need"));
    }

    #[test]
    fn unsupported_dtypes_name_the_tensor() {
        for code in [11, 16, 4, 8] {
            let error = decode(&proto(&[1], code)).unwrap_err();
            assert!(
                matches!(&error, Error::Unsupported { location, .. } if location == "tensor 't'"),
                "{error}"
            );
        }
        assert!(matches!(
            decode(&proto(&[1], 0)),
            Err(Error::InvalidModel { .. })
        ));
    }
}
