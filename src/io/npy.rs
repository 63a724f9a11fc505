//! numpy `.npy` files (format versions 1 to 3) read to and written from [`crate::tensor::HostTensor`].
//!
//! A file is the magic `\x93NUMPY`, a version, a header length (u16 in v1, u32 in v2 and v3), a
//! Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with
//! spaces to a multiple of 64 bytes, then the elements. kiln reads little-endian `f4`, `f2`, `i1`,
//! `u1`, `i4`, `i8` and `b1` in C order; anything else is [`Error::Unsupported`], and a malformed
//! file is an [`Error::Io`] that says what is wrong. Sizes read from the header are checked against
//! the bytes actually present before anything is allocated.
//!
//! ```
//! use kiln::io::npy::{parse_npy, to_npy_bytes};
//! use kiln::tensor::HostTensor;
//! let tensor = HostTensor::from_f32(&[2], vec![1.5, -2.0]).unwrap();
//! let bytes = to_npy_bytes(&tensor).unwrap();
//! assert_eq!(parse_npy(&bytes, "example.npy").unwrap(), tensor);
//! ```

use std::path::Path;

mod header;

use crate::error::{Error, Result};
use crate::tensor::{DType, HostTensor};
use header::parse_header;

const MAGIC: &[u8] = b"\x93NUMPY";
/// Headers beyond this are refused: numpy writes a few dozen bytes for any realistic shape.
const MAX_HEADER_BYTES: usize = 1 << 16;
/// The preamble (magic, version, length, dict) is padded to a multiple of this, as numpy does.
const HEADER_ALIGN: usize = 64;

/// Reads a `.npy` file: a regular file of at most one capped tensor
/// ([`crate::limits::max_tensor_bytes`]) and its header.
pub fn read_npy(path: &Path) -> Result<HostTensor> {
    let limit = crate::limits::max_tensor_bytes()?.saturating_add(MAX_HEADER_BYTES as u64);
    let bytes = crate::limits::read_file(
        path,
        ".npy file",
        limit,
        crate::limits::MAX_TENSOR_BYTES_ENV,
    )?;
    parse_npy(&bytes, &path.display().to_string())
}

/// Parses the bytes of a `.npy` file; `source` names it in error messages.
pub fn parse_npy(bytes: &[u8], source: &str) -> Result<HostTensor> {
    let malformed = |detail: String| Error::Io {
        path: source.to_string(),
        detail: format!("not a valid .npy file: {detail}"),
    };
    let (header, data) = split_header(bytes).map_err(malformed)?;
    let header = parse_header(header).map_err(malformed)?;
    if header.fortran_order {
        return Err(Error::Unsupported {
            location: source.to_string(),
            detail: "Fortran-ordered .npy arrays; save with np.ascontiguousarray(array)".into(),
        });
    }
    let dtype = dtype_of_descr(&header.descr).ok_or_else(|| Error::Unsupported {
        location: source.to_string(),
        detail: format!(
            "numpy dtype '{}'; kiln reads little-endian f4, f2, i1, u1, i4, i8 and b1 (convert with array.astype(np.float32))",
            header.descr
        ),
    })?;
    let expected = header
        .shape
        .iter()
        .try_fold(dtype.size_bytes(), |acc, &dim| acc.checked_mul(dim));
    if expected != Some(data.len()) {
        return Err(malformed(format!(
            "shape {:?} of {dtype} needs {} data bytes, the file has {}",
            header.shape,
            expected.map_or("more than usize::MAX".to_string(), |n| n.to_string()),
            data.len()
        )));
    }
    HostTensor::from_le_bytes(&header.shape, dtype, data)
}

/// Writes `tensor` as a `.npy` file (version 1.0, or 2.0 for a header too long for 1.0).
pub fn write_npy(path: &Path, tensor: &HostTensor) -> Result<()> {
    let bytes = to_npy_bytes(tensor)?;
    std::fs::write(path, bytes).map_err(|error| Error::io(path, error))
}

/// The bytes of a `.npy` file holding `tensor`.
pub fn to_npy_bytes(tensor: &HostTensor) -> Result<Vec<u8>> {
    let shape = match tensor.shape() {
        [] => "()".to_string(),
        [single] => format!("({single},)"),
        dims => {
            let listed: Vec<String> = dims.iter().map(usize::to_string).collect();
            format!("({})", listed.join(", "))
        }
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        descr_of_dtype(tensor.dtype())
    );
    let padded_len = |length_bytes: usize| {
        let unpadded = MAGIC.len() + 2 + length_bytes + dict.len() + 1;
        dict.len() + 1 + (HEADER_ALIGN - unpadded % HEADER_ALIGN) % HEADER_ALIGN
    };
    let mut bytes = Vec::with_capacity(dict.len() + 2 * HEADER_ALIGN + tensor.size_bytes());
    bytes.extend_from_slice(MAGIC);
    let header_len = match u16::try_from(padded_len(2)) {
        Ok(len) => {
            bytes.extend_from_slice(&[1, 0]);
            bytes.extend_from_slice(&len.to_le_bytes());
            usize::from(len)
        }
        Err(_) => {
            let len = u32::try_from(padded_len(4)).map_err(|_| Error::InvalidArgument {
                op: "write_npy",
                detail: format!("a tensor of {} dimensions", tensor.shape().len()),
            })?;
            bytes.extend_from_slice(&[2, 0]);
            bytes.extend_from_slice(&len.to_le_bytes());
            len as usize
        }
    };
    bytes.extend_from_slice(dict.as_bytes());
    bytes.resize(bytes.len() + header_len - dict.len() - 1, b' ');
    bytes.push(b'\n');
    bytes.extend_from_slice(&tensor.to_le_bytes());
    Ok(bytes)
}

/// The header dict's text and the data bytes after it.
fn split_header(bytes: &[u8]) -> std::result::Result<(&str, &[u8]), String> {
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or("it does not start with the magic \\x93NUMPY")?;
    let (&[major, _minor], rest) = rest.split_first_chunk::<2>().ok_or("it is truncated")?;
    let (header_len, rest) = match major {
        1 => {
            let (len, rest) = rest.split_first_chunk::<2>().ok_or("it is truncated")?;
            (usize::from(u16::from_le_bytes(*len)), rest)
        }
        2 | 3 => {
            let (len, rest) = rest.split_first_chunk::<4>().ok_or("it is truncated")?;
            (u32::from_le_bytes(*len) as usize, rest)
        }
        other => return Err(format!("format version {other} (kiln reads 1 to 3)")),
    };
    if header_len > MAX_HEADER_BYTES || header_len > rest.len() {
        return Err(format!(
            "a header of {header_len} bytes (the file has {} left, the limit is {MAX_HEADER_BYTES})",
            rest.len()
        ));
    }
    let (header, data) = rest.split_at(header_len);
    // v1 and v2 headers are latin-1 and v3 UTF-8; every valid dict is ASCII, which both agree on.
    let header = std::str::from_utf8(header).map_err(|_| "the header is not text")?;
    Ok((header, data))
}

fn dtype_of_descr(descr: &str) -> Option<DType> {
    Some(match descr {
        "<f4" => DType::F32,
        "<f2" => DType::F16,
        "|i1" | "<i1" | "i1" => DType::I8,
        "|u1" | "<u1" | "u1" => DType::U8,
        "<i4" => DType::I32,
        "<i8" => DType::I64,
        "|b1" | "<b1" | "b1" => DType::Bool,
        _ => return None,
    })
}

fn descr_of_dtype(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "<f4",
        DType::F16 => "<f2",
        DType::I8 => "|i1",
        DType::U8 => "|u1",
        DType::I32 => "<i4",
        DType::I64 => "<i8",
        DType::Bool => "|b1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::TensorData;
    use half::f16;

    fn npy_with_header(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[version, 0]);
        if version == 1 {
            bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        } else {
            bytes.extend_from_slice(&(dict.len() as u32).to_le_bytes());
        }
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn every_dtype_round_trips() {
        let tensors = [
            HostTensor::from_f32(&[2, 3], vec![1.0, -2.5, 3.0, f32::NAN, 0.0, 7.0]).unwrap(),
            HostTensor::new(&[2], TensorData::F16(vec![f16::ONE, f16::MIN])).unwrap(),
            HostTensor::new(&[3], TensorData::I8(vec![-128, 0, 127])).unwrap(),
            HostTensor::new(&[1, 2], TensorData::U8(vec![0, 255])).unwrap(),
            HostTensor::new(&[2], TensorData::I32(vec![i32::MIN, 5])).unwrap(),
            HostTensor::from_i64(&[], vec![i64::MAX]).unwrap(),
            HostTensor::new(&[0, 4], TensorData::Bool(vec![])).unwrap(),
            HostTensor::new(&[2, 1, 1], TensorData::Bool(vec![true, false])).unwrap(),
        ];
        for tensor in tensors {
            let bytes = to_npy_bytes(&tensor).unwrap();
            let data_offset = bytes.len() - tensor.size_bytes();
            assert_eq!(data_offset % HEADER_ALIGN, 0, "{tensor:?}");
            let back = parse_npy(&bytes, "test").unwrap();
            assert_eq!(back.shape(), tensor.shape());
            assert_eq!(back.to_le_bytes(), tensor.to_le_bytes());
        }
    }

    #[test]
    fn reads_what_numpy_writes() {
        // np.save of np.arange(6, dtype=np.float32).reshape(2, 3), header byte for byte.
        let mut dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".to_string();
        dict.push_str(&" ".repeat(118 - dict.len() - 1));
        dict.push('\n');
        let data: Vec<u8> = (0..6).flat_map(|i| (i as f32).to_le_bytes()).collect();
        let bytes = npy_with_header(1, &dict, &data);
        assert_eq!(bytes.len() - data.len(), 128);
        let tensor = parse_npy(&bytes, "test").unwrap();
        assert_eq!(tensor.shape(), &[2, 3]);
        assert_eq!(tensor.as_f32().unwrap(), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn versions_two_and_three_and_any_key_order() {
        for version in [2, 3] {
            let dict = "{\"shape\": (1,), \"fortran_order\": False, \"descr\": \"<i8\"}\n";
            let bytes = npy_with_header(version, dict, &42i64.to_le_bytes());
            let tensor = parse_npy(&bytes, "test").unwrap();
            assert_eq!(tensor.to_i64_vec("test").unwrap(), vec![42]);
        }
    }

    #[test]
    fn unsupported_layouts_and_dtypes_say_so() {
        let fortran = npy_with_header(
            1,
            "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",
            &[0; 4],
        );
        let big_endian = npy_with_header(
            1,
            "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
            &[0; 4],
        );
        let float64 = npy_with_header(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
            &[0; 8],
        );
        for bytes in [fortran, big_endian, float64] {
            let error = parse_npy(&bytes, "test").unwrap_err();
            assert!(matches!(error, Error::Unsupported { .. }), "{error}");
        }
    }

    #[test]
    fn malformed_files_are_errors_not_panics() {
        let header = |dict: &str| npy_with_header(1, dict, &[0; 4]);
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            b"\x93NUMP".to_vec(),
            b"\x93NUMPY\x01".to_vec(),
            b"\x93NUMPY\x04\x00\x00\x00".to_vec(),
            b"\x93NUMPY\x01\x00\xff\xff{".to_vec(),
            b"\x93NUMPY\x02\x00\xff\xff\xff\xff{}".to_vec(),
            npy_with_header(
                1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                &[0; 4],
            ),
            npy_with_header(
                1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 2), }",
                &[0; 4],
            ),
            npy_with_header(
                1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
                &[0; 4],
            ),
            header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"),
            header("{'descr': '<f4', 'fortran_order': False}"),
            header("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }"),
            header("{'descr': '<f4, 'fortran_order': False, 'shape': (1,), }"),
            header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}"),
            header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,) } trailing"),
            header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,"),
            header("\u{e9}"),
        ];
        for bytes in cases {
            let error = parse_npy(&bytes, "bad.npy").unwrap_err();
            assert!(matches!(error, Error::Io { .. }), "{error}");
            assert!(
                error
                    .to_string()
                    .starts_with("bad.npy: not a valid .npy file"),
                "{error}"
            );
        }
    }

    #[test]
    fn mutated_and_truncated_files_never_panic() {
        let tensor = HostTensor::from_f32(&[2, 3], vec![0.5; 6]).unwrap();
        let valid = to_npy_bytes(&tensor).unwrap();
        let mut rng = crate::check::SeededRng::new(11);
        for _ in 0..3000 {
            let mut bytes = valid.clone();
            for _ in 0..1 + rng.next_u64() % 4 {
                let at = (rng.next_u64() % bytes.len() as u64) as usize;
                bytes[at] = rng.next_u64() as u8;
            }
            let keep = if rng.next_u64().is_multiple_of(2) {
                bytes.len()
            } else {
                (rng.next_u64() % bytes.len() as u64) as usize
            };
            if let Ok(parsed) = parse_npy(&bytes[..keep], "fuzz") {
                assert_eq!(
                    parsed.size_bytes(),
                    parsed.len() * parsed.dtype().size_bytes()
                );
            }
        }
    }

    #[test]
    fn files_round_trip_and_missing_files_name_the_path() {
        let dir = std::env::temp_dir().join(format!("kiln-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tensor.npy");
        let tensor = HostTensor::from_f32(&[3], vec![1.0, 2.0, 3.0]).unwrap();
        write_npy(&path, &tensor).unwrap();
        assert_eq!(read_npy(&path).unwrap(), tensor);
        std::fs::remove_dir_all(&dir).unwrap();
        let error = read_npy(&path).unwrap_err();
        assert!(error.to_string().contains("tensor.npy"), "{error}");
    }
}
