//! [`GpuBsrMatrix`]: a [`BsrMatrix`] on the GPU with the work list its kernels read, uploaded once
//! and used by many matmuls.

use crate::device::{Gpu, GpuBuffer};
use crate::error::{Error, Result};
use crate::ops::matmul::tiled::to_u32;
use crate::ops::sparse::bsr::work_list::{max_chunk_blocks, WorkList};
use crate::tensor::bsr::{BlockShape, BsrMatrix, BsrValues};
use crate::tensor::DType;

/// The int8-only arrays: one f32 scale and one i32 sum of stored values per output row.
pub(crate) struct Q8RowData {
    /// `scales[n]`, f32.
    pub scales: GpuBuffer,
    /// `Σ_k w_q[n, k]` over the stored blocks (padding is 0), i32: the activation zero point's
    /// term `x_zp · Σ w`.
    pub row_sums: GpuBuffer,
}

/// A block-sparse `[N, K]` weight on the GPU: its values (exactly the bytes of
/// [`BsrMatrix::values_bytes`]: zero blocks are not stored, so never read), `col_idx`, and the
/// work list the kernels are launched over (chunks of at most a few stored blocks of one block
/// row, see the [module documentation](super)). Keeps the dimensions, block shape and dtype.
///
/// ```no_run
/// use kiln::device::Gpu;
/// use kiln::ops::sparse::bsr::GpuBsrMatrix;
/// use kiln::tensor::bsr::{BlockShape, BsrMatrix};
/// # fn main() -> kiln::Result<()> {
/// let gpu = Gpu::from_env()?;
/// let dense = vec![1.0f32; 8 * 16];
/// let pruned = BsrMatrix::prune_by_magnitude(&dense, 8, 16, BlockShape::B4x4, 0.75)?;
/// let w = GpuBsrMatrix::upload(&gpu, &pruned)?;
/// assert_eq!((w.rows(), w.cols(), w.stored_blocks()), (8, 16, 2));
/// # Ok(()) }
/// ```
pub struct GpuBsrMatrix {
    rows: usize,
    cols: usize,
    block: BlockShape,
    dtype: DType,
    stored_blocks: usize,
    values: GpuBuffer,
    col_idx: GpuBuffer,
    chunks: GpuBuffer,
    chunk_ptr: GpuBuffer,
    chunk_count: usize,
    q8: Option<Q8RowData>,
}

impl GpuBsrMatrix {
    /// Checks `matrix` with [`BsrMatrix::validate`] (its fields are public, so it may have been
    /// edited by hand), builds its work list and uploads everything (recorded in the pending
    /// encoder, like every upload). A matrix whose element indices do not fit the kernels' u32
    /// arithmetic is an [`Error::LimitExceeded`].
    pub fn upload(gpu: &Gpu, matrix: &BsrMatrix) -> Result<Self> {
        matrix.validate()?;
        to_u32("BSR stored elements", matrix.values.element_count())?;
        to_u32("BSR weight elements", matrix.rows * matrix.cols)?;
        let work_list = WorkList::build(&matrix.row_ptr, max_chunk_blocks(matrix.block));
        let chunk_words: Vec<u32> = work_list.chunks.iter().flatten().copied().collect();
        let q8 = match &matrix.values {
            BsrValues::I8 { values, scales } => Some(Q8RowData {
                scales: gpu.upload_bytes(bytemuck::cast_slice(scales))?,
                row_sums: gpu.upload_bytes(bytemuck::cast_slice(&row_sums(matrix, values)))?,
            }),
            BsrValues::F32(_) | BsrValues::F16(_) => None,
        };
        Ok(GpuBsrMatrix {
            rows: matrix.rows,
            cols: matrix.cols,
            block: matrix.block,
            dtype: matrix.values.dtype(),
            stored_blocks: matrix.stored_blocks(),
            values: gpu.upload_bytes(matrix.values_bytes())?,
            col_idx: gpu.upload_bytes(bytemuck::cast_slice(&matrix.col_idx))?,
            chunks: gpu.upload_bytes(bytemuck::cast_slice(&chunk_words))?,
            chunk_ptr: gpu.upload_bytes(bytemuck::cast_slice(&work_list.chunk_ptr))?,
            chunk_count: work_list.len(),
            q8,
        })
    }

    /// Output channels `N`.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The reduction length `K`.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The block shape.
    pub fn block(&self) -> BlockShape {
        self.block
    }

    /// The element type of the values: [`DType::F32`], [`DType::F16`] or [`DType::I8`].
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The number of stored blocks.
    pub fn stored_blocks(&self) -> usize {
        self.stored_blocks
    }

    /// The number of chunks in the work list: one pass-1 workgroup each (per tile of rows).
    /// Block rows without stored blocks have none; heavy ones have several.
    pub fn chunk_count(&self) -> usize {
        self.chunk_count
    }

    /// The bytes this matrix holds on the device: values, block columns, the work list and, for
    /// int8 values, the row scales and sums.
    pub fn device_bytes(&self) -> u64 {
        let q8 = (self.q8.as_ref()).map_or(0, |q8| q8.scales.len_bytes() + q8.row_sums.len_bytes());
        self.values.len_bytes()
            + self.col_idx.len_bytes()
            + self.chunks.len_bytes()
            + self.chunk_ptr.len_bytes()
            + q8
    }

    /// The stored values.
    pub(crate) fn values(&self) -> &GpuBuffer {
        &self.values
    }

    /// The block column of every stored block.
    pub(crate) fn col_idx(&self) -> &GpuBuffer {
        &self.col_idx
    }

    /// The chunks, `[first, end)` stored-block pairs.
    pub(crate) fn chunks(&self) -> &GpuBuffer {
        &self.chunks
    }

    /// Per block row, the offsets of its chunks.
    pub(crate) fn chunk_ptr(&self) -> &GpuBuffer {
        &self.chunk_ptr
    }

    /// The int8 scales and row sums, or [`Error::DTypeMismatch`] for float values.
    pub(crate) fn q8_rows(&self, op: &'static str) -> Result<&Q8RowData> {
        self.q8.as_ref().ok_or(Error::DTypeMismatch {
            op,
            expected: DType::I8,
            got: self.dtype,
        })
    }
}

/// `Σ_k w_q[n, k]` over the stored elements of each row, in i32 (at most `K · 128` in magnitude
/// for `K ≤` [`crate::ops::matmul::int8::MAX_K`]; longer rows are summed wrapping, like the
/// kernels, and such matrices are refused at matmul time).
fn row_sums(matrix: &BsrMatrix, values: &[i8]) -> Vec<i32> {
    let mut sums = vec![0i32; matrix.rows];
    for element in matrix.stored_elements() {
        let sum = &mut sums[element.row];
        *sum = sum.wrapping_add(i32::from(values[element.index]));
    }
    sums
}
