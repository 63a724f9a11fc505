//! A dense tensor whose elements live in a GPU buffer.

use std::ops::Range;

use crate::device::{Gpu, GpuBuffer};
use crate::error::{Error, Result};
use crate::tensor::{DType, Element};

/// A dense, row-major tensor on the GPU. Elements are packed at their natural size (f16 two per
/// 32-bit word, i8 four per word, low bytes first), exactly as on the host.
pub struct GpuTensor {
    shape: Vec<usize>,
    dtype: DType,
    buffer: GpuBuffer,
}

/// The number of elements of `shape`, or an error if it overflows.
pub fn element_count(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |count, &dim| count.checked_mul(dim))
        .ok_or_else(|| Error::InvalidArgument {
            op: "tensor",
            detail: format!("shape {shape:?} has more elements than fit in memory"),
        })
}

impl GpuTensor {
    /// Uploads `data` (row-major, `shape`'s element count long).
    pub fn upload<T: Element>(gpu: &Gpu, shape: &[usize], data: &[T]) -> Result<Self> {
        let count = element_count(shape)?;
        if data.len() != count {
            return Err(Error::ShapeMismatch {
                op: "GpuTensor::upload",
                detail: format!(
                    "shape {shape:?} holds {count} elements, data has {}",
                    data.len()
                ),
            });
        }
        Ok(GpuTensor {
            shape: shape.to_vec(),
            dtype: T::DTYPE,
            buffer: gpu.upload_bytes(bytemuck::cast_slice(data))?,
        })
    }

    /// A tensor of `shape` whose contents are not initialised (every element is written by the op
    /// that produces it).
    pub fn uninit(gpu: &Gpu, shape: &[usize], dtype: DType) -> Result<Self> {
        let count = element_count(shape)?;
        let bytes = (count as u64).saturating_mul(dtype.size_bytes() as u64);
        Ok(GpuTensor {
            shape: shape.to_vec(),
            dtype,
            buffer: gpu.alloc(bytes)?,
        })
    }

    /// Reads the elements back (submits pending work and waits for it).
    pub fn read<T: Element>(&self, gpu: &Gpu) -> Result<Vec<T>> {
        if T::DTYPE != self.dtype {
            return Err(Error::DTypeMismatch {
                op: "GpuTensor::read",
                expected: self.dtype,
                got: T::DTYPE,
            });
        }
        let bytes = gpu.read_bytes(&self.buffer)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// The same buffer under another shape with the same element count (no copy): what Reshape,
    /// Flatten, Squeeze and Unsqueeze do on a dense row-major tensor.
    pub fn reshape(self, shape: &[usize]) -> Result<GpuTensor> {
        let count = element_count(shape)?;
        if count != self.len() {
            return Err(Error::ShapeMismatch {
                op: "GpuTensor::reshape",
                detail: format!(
                    "{:?} has {} elements, the new shape {shape:?} {count}",
                    self.shape,
                    self.len()
                ),
            });
        }
        Ok(GpuTensor {
            shape: shape.to_vec(),
            ..self
        })
    }

    /// Rows `rows` of the leading axis as a tensor sharing this one's buffer (no copy): how a
    /// weight larger than one storage binding is bound one part at a time. The part starts at byte
    /// `rows.start` times the bytes of one row, which the caller keeps a multiple of
    /// [`Gpu::binding_offset_alignment`]; it must not outlive `self` (see
    /// [`GpuBuffer::range`]). Rows past the end are an [`Error::InvalidArgument`].
    pub fn rows(&self, rows: Range<usize>) -> Result<GpuTensor> {
        let Some((&extent, row_shape)) = self.shape.split_first() else {
            return Err(Error::InvalidArgument {
                op: "GpuTensor::rows",
                detail: "a scalar has no rows".into(),
            });
        };
        if rows.start > rows.end || rows.end > extent {
            return Err(Error::InvalidArgument {
                op: "GpuTensor::rows",
                detail: format!("rows {rows:?} of a tensor of shape {:?}", self.shape),
            });
        }
        let row_bytes = (element_count(row_shape)? * self.dtype.size_bytes()) as u64;
        let mut shape = self.shape.clone();
        shape[0] = rows.len();
        Ok(GpuTensor {
            shape,
            dtype: self.dtype,
            buffer: (self.buffer)
                .range(rows.start as u64 * row_bytes, rows.len() as u64 * row_bytes)?,
        })
    }

    /// The number of bytes the elements take.
    pub fn size_bytes(&self) -> u64 {
        (self.len() * self.dtype.size_bytes()) as u64
    }

    /// The tensor's dimensions.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer holding the elements.
    pub fn buffer(&self) -> &GpuBuffer {
        &self.buffer
    }

    /// Fails with [`Error::DTypeMismatch`] unless the tensor holds `expected`.
    pub fn expect_dtype(&self, op: &'static str, expected: DType) -> Result<()> {
        if self.dtype == expected {
            Ok(())
        } else {
            Err(Error::DTypeMismatch {
                op,
                expected,
                got: self.dtype,
            })
        }
    }
}
