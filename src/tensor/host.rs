//! A dense tensor in host memory: what model files hold (initializers, constants), what the CPU
//! reference backend computes on, and what a run returns.

use crate::error::{Error, Result};
use crate::tensor::{element_count, DType};
use half::f16;

/// The elements of a [`HostTensor`], row-major, one vector per element type.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    /// 32-bit floats.
    F32(Vec<f32>),
    /// 16-bit floats.
    F16(Vec<f16>),
    /// Signed bytes.
    I8(Vec<i8>),
    /// Unsigned bytes.
    U8(Vec<u8>),
    /// 32-bit integers.
    I32(Vec<i32>),
    /// 64-bit integers.
    I64(Vec<i64>),
    /// Booleans.
    Bool(Vec<bool>),
}

impl TensorData {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F32(_) => DType::F32,
            TensorData::F16(_) => DType::F16,
            TensorData::I8(_) => DType::I8,
            TensorData::U8(_) => DType::U8,
            TensorData::I32(_) => DType::I32,
            TensorData::I64(_) => DType::I64,
            TensorData::Bool(_) => DType::Bool,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F16(v) => v.len(),
            TensorData::I8(v) => v.len(),
            TensorData::U8(v) => v.len(),
            TensorData::I32(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::Bool(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `count` zeros (false for booleans) of `dtype`.
    pub fn zeros(dtype: DType, count: usize) -> TensorData {
        match dtype {
            DType::F32 => TensorData::F32(vec![0.0; count]),
            DType::F16 => TensorData::F16(vec![f16::ZERO; count]),
            DType::I8 => TensorData::I8(vec![0; count]),
            DType::U8 => TensorData::U8(vec![0; count]),
            DType::I32 => TensorData::I32(vec![0; count]),
            DType::I64 => TensorData::I64(vec![0; count]),
            DType::Bool => TensorData::Bool(vec![false; count]),
        }
    }
}

/// A dense, row-major tensor in host memory. The element count always matches the shape.
///
/// ```
/// use kiln::tensor::{HostTensor, DType};
/// let t = HostTensor::from_f32(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
/// assert_eq!(t.dtype(), DType::F32);
/// assert_eq!(t.to_f64_vec(), vec![1.0, 2.0, 3.0, 4.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    shape: Vec<usize>,
    data: TensorData,
}

impl HostTensor {
    /// A tensor of `shape` holding `data`; an error if the element counts differ.
    pub fn new(shape: &[usize], data: TensorData) -> Result<Self> {
        let count = element_count(shape)?;
        if count != data.len() {
            return Err(Error::ShapeMismatch {
                op: "HostTensor::new",
                detail: format!(
                    "shape {shape:?} holds {count} elements, data has {}",
                    data.len()
                ),
            });
        }
        Ok(HostTensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// An f32 tensor.
    pub fn from_f32(shape: &[usize], values: Vec<f32>) -> Result<Self> {
        HostTensor::new(shape, TensorData::F32(values))
    }

    /// An i64 tensor.
    pub fn from_i64(shape: &[usize], values: Vec<i64>) -> Result<Self> {
        HostTensor::new(shape, TensorData::I64(values))
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize], dtype: DType) -> Result<Self> {
        let count = element_count(shape)?;
        HostTensor::new(shape, TensorData::zeros(dtype, count))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// The elements.
    pub fn data(&self) -> &TensorData {
        &self.data
    }

    /// The elements, by value.
    pub fn into_data(self) -> TensorData {
        self.data
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Bytes the elements occupy.
    pub fn size_bytes(&self) -> usize {
        self.len() * self.dtype().size_bytes()
    }

    /// The same elements under another shape with the same element count.
    pub fn reshaped(self, shape: &[usize]) -> Result<Self> {
        HostTensor::new(shape, self.data)
    }

    /// The f32 elements, if this is an f32 tensor.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Some(v),
            _ => None,
        }
    }

    /// The f32 elements, or a [`Error::DTypeMismatch`] naming `op`.
    pub fn expect_f32(&self, op: &'static str) -> Result<&[f32]> {
        self.as_f32().ok_or(Error::DTypeMismatch {
            op,
            expected: DType::F32,
            got: self.dtype(),
        })
    }

    /// Every element converted to f64 (booleans as 0 and 1).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match &self.data {
            TensorData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::F16(v) => v.iter().map(|x| x.to_f64()).collect(),
            TensorData::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| f64::from(u8::from(x))).collect(),
        }
    }

    /// The elements of an integer tensor as i64 (shape, axes and index inputs), or an error naming
    /// `op` for a float tensor.
    pub fn to_i64_vec(&self, op: &'static str) -> Result<Vec<i64>> {
        match &self.data {
            TensorData::I64(v) => Ok(v.clone()),
            TensorData::I32(v) => Ok(v.iter().map(|&x| i64::from(x)).collect()),
            TensorData::I8(v) => Ok(v.iter().map(|&x| i64::from(x)).collect()),
            TensorData::U8(v) => Ok(v.iter().map(|&x| i64::from(x)).collect()),
            TensorData::Bool(v) => Ok(v.iter().map(|&x| i64::from(x)).collect()),
            TensorData::F32(_) | TensorData::F16(_) => Err(Error::DTypeMismatch {
                op,
                expected: DType::I64,
                got: self.dtype(),
            }),
        }
    }

    /// The elements as little-endian bytes (booleans one byte each), as a GPU buffer holds them.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        match &self.data {
            TensorData::F32(v) => bytemuck::cast_slice(v).to_vec(),
            TensorData::F16(v) => bytemuck::cast_slice(v).to_vec(),
            TensorData::I8(v) => bytemuck::cast_slice(v).to_vec(),
            TensorData::U8(v) => v.clone(),
            TensorData::I32(v) => bytemuck::cast_slice(v).to_vec(),
            TensorData::I64(v) => bytemuck::cast_slice(v).to_vec(),
            TensorData::Bool(v) => v.iter().map(|&x| u8::from(x)).collect(),
        }
    }

    /// A tensor of `dtype` and `shape` from little-endian bytes; an error if the byte count is
    /// not the element count times the element size.
    pub fn from_le_bytes(shape: &[usize], dtype: DType, bytes: &[u8]) -> Result<Self> {
        let count = element_count(shape)?;
        let expected = count.checked_mul(dtype.size_bytes());
        if expected != Some(bytes.len()) {
            return Err(Error::ShapeMismatch {
                op: "HostTensor::from_le_bytes",
                detail: format!(
                    "{dtype} tensor of shape {shape:?} needs {count} elements, got {} bytes",
                    bytes.len()
                ),
            });
        }
        let data = match dtype {
            DType::F32 => TensorData::F32(bytemuck::pod_collect_to_vec(bytes)),
            DType::F16 => TensorData::F16(bytemuck::pod_collect_to_vec(bytes)),
            DType::I8 => TensorData::I8(bytemuck::pod_collect_to_vec(bytes)),
            DType::U8 => TensorData::U8(bytes.to_vec()),
            DType::I32 => TensorData::I32(bytemuck::pod_collect_to_vec(bytes)),
            DType::I64 => TensorData::I64(bytemuck::pod_collect_to_vec(bytes)),
            DType::Bool => TensorData::Bool(bytes.iter().map(|&b| b != 0).collect()),
        };
        HostTensor::new(shape, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_every_dtype() {
        for dtype in DType::ALL {
            let bytes: Vec<u8> = (0..6 * dtype.size_bytes())
                .map(|i| {
                    if dtype == DType::Bool {
                        (i % 2) as u8
                    } else {
                        (i * 37 % 251) as u8
                    }
                })
                .collect();
            let tensor = HostTensor::from_le_bytes(&[2, 3], dtype, &bytes).unwrap();
            assert_eq!(tensor.to_le_bytes(), bytes, "{dtype}");
            assert_eq!(tensor.shape(), &[2, 3]);
        }
    }

    #[test]
    fn wrong_counts_are_errors() {
        assert!(HostTensor::from_f32(&[2, 2], vec![1.0]).is_err());
        assert!(HostTensor::from_le_bytes(&[3], DType::I64, &[0; 16]).is_err());
        assert!(HostTensor::from_le_bytes(&[usize::MAX, 4], DType::F32, &[]).is_err());
    }

    #[test]
    fn float_tensors_are_not_indices() {
        let t = HostTensor::from_f32(&[1], vec![1.0]).unwrap();
        assert!(t.to_i64_vec("test").is_err());
    }
}
