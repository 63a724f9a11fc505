//! Block-sparse row (BSR) weights: a `[N, K]` matrix cut into `R × C` blocks ([`BlockShape`]) of
//! which only the stored blocks are kept. Block pruning produces it; the BSR matmul kernels read
//! it for `Y = X · Wᵀ`, visiting only the stored blocks.
//!
//! # Layout contract (read by the GPU kernels)
//!
//! `W` is row-major `[rows, cols]` = `[N, K]`: rows are output channels and `K`, the reduction
//! axis, is contiguous, as in a Linear layer's weight. With `R = block.rows()`, `C = block.cols()`:
//! - The block grid is `block_rows_count = ceil(N / R)` by `block_cols_count = ceil(K / C)`.
//!   Block `(i, j)` covers rows `i·R..i·R + R` and columns `j·C..j·C + C`. Dimensions that are
//!   not multiples of the block are padded with zeros up to whole blocks: the elements of an edge
//!   block outside `[0, N) × [0, K)` are stored as 0. Kernels must still not read `X` at `k ≥ K`
//!   nor write `Y` at `n ≥ N`.
//! - `row_ptr: [u32; block_rows_count + 1]`: the stored blocks of block row `i` are
//!   `row_ptr[i]..row_ptr[i + 1]`; `row_ptr[0] = 0`, it never decreases, and its last entry is the
//!   number of stored blocks. A block row may have no stored blocks.
//! - `col_idx: [u32; stored blocks]`: stored block `b` is in block column `col_idx[b]`, which is
//!   below `block_cols_count` and strictly ascending within each block row.
//! - values: stored block `b` holds `R·C` elements at `b·R·C..(b + 1)·R·C`, row-major within the
//!   block, so `W[i·R + r, col_idx[b]·C + c]` is value `b·R·C + r·C + c` (for `b` in block row `i`).
//!   - [`BsrValues::F32`]: 4 bytes per element.
//!   - [`BsrValues::F16`]: IEEE binary16, 2 bytes each; read as `u32` words, element `2w` is the
//!     low half of word `w`.
//!   - [`BsrValues::I8`]: one byte each; read as `u32` words, element `4w + j` is byte `j` of word
//!     `w` (little-endian, as `dot4I8Packed` expects). Element `(n, k)` dequantizes to
//!     `q · scales[n]`: `scales: [f32; N]` holds one finite positive scale per output row and the
//!     zero point is 0, the convention of symmetric [`crate::tensor::Q8Weights`]. Padding rows
//!     (`n ≥ N`) have no scale; their values are 0.
//!
//!   Every block area (16, 32, 64, 256 or 1024 elements) is a multiple of 16, so in every dtype
//!   each block starts on a 16-byte boundary of [`BsrMatrix::values_bytes`].
//!
//! ```
//! use kiln::tensor::bsr::{BlockShape, BsrMatrix};
//! let mut dense = vec![0.0f32; 8 * 8];
//! dense[5 * 8 + 6] = 2.0; // one non-zero, in block (1, 1) of the 4x4 grid
//! let bsr = BsrMatrix::from_dense_f32(&dense, 8, 8, BlockShape::B4x4)?;
//! assert_eq!((bsr.row_ptr.clone(), bsr.col_idx.clone()), (vec![0, 0, 1], vec![1]));
//! assert_eq!(bsr.to_dense(), dense);
//! # Ok::<(), kiln::Error>(())
//! ```

mod build;
mod validate;

use std::fmt;
use std::str::FromStr;

use half::f16;

use crate::error::{Error, Result};
use crate::tensor::DType;

/// The shape of the blocks a [`BsrMatrix`] stores: `rows × cols` elements of `W`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockShape {
    /// 4 × 4 blocks.
    B4x4,
    /// 8 × 8 blocks.
    B8x8,
    /// 16 × 16 blocks.
    B16x16,
    /// 32 × 32 blocks.
    B32x32,
    /// One output row by 32 elements of `K`.
    B1x32,
    /// 32 output rows by one element of `K`.
    B32x1,
}

impl BlockShape {
    /// Every block shape.
    pub const ALL: [BlockShape; 6] = [
        BlockShape::B4x4,
        BlockShape::B8x8,
        BlockShape::B16x16,
        BlockShape::B32x32,
        BlockShape::B1x32,
        BlockShape::B32x1,
    ];

    /// Rows of `W` (output channels) per block.
    pub fn rows(self) -> usize {
        match self {
            BlockShape::B4x4 => 4,
            BlockShape::B8x8 => 8,
            BlockShape::B16x16 => 16,
            BlockShape::B32x32 | BlockShape::B32x1 => 32,
            BlockShape::B1x32 => 1,
        }
    }

    /// Columns of `W` (elements of `K`) per block.
    pub fn cols(self) -> usize {
        match self {
            BlockShape::B4x4 => 4,
            BlockShape::B8x8 => 8,
            BlockShape::B16x16 => 16,
            BlockShape::B32x32 | BlockShape::B1x32 => 32,
            BlockShape::B32x1 => 1,
        }
    }

    /// Elements per block, `rows() · cols()`: always a multiple of 16.
    pub fn area(self) -> usize {
        self.rows() * self.cols()
    }
}

impl FromStr for BlockShape {
    type Err = Error;

    /// Parses `"4x4"`, `"1x32"`, ... (case-insensitive, surrounding spaces ignored).
    fn from_str(text: &str) -> Result<Self> {
        let wanted = text.trim().to_ascii_lowercase();
        let matches_name = |shape: &&BlockShape| shape.to_string() == wanted;
        BlockShape::ALL
            .iter()
            .find(matches_name)
            .copied()
            .ok_or_else(|| Error::InvalidArgument {
                op: "BlockShape::from_str",
                detail: format!(
                    "'{text}' is not a block shape; expected one of 4x4, 8x8, 16x16, 32x32, 1x32, \
                     32x1"
                ),
            })
    }
}

impl fmt::Display for BlockShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.rows(), self.cols())
    }
}

/// The stored blocks' elements, back to back, in one of three element types.
#[derive(Clone, Debug, PartialEq)]
pub enum BsrValues {
    /// f32 elements.
    F32(Vec<f32>),
    /// f16 elements.
    F16(Vec<f16>),
    /// Symmetric int8 elements with one scale per output row.
    I8 {
        /// The quantized elements.
        values: Vec<i8>,
        /// One finite positive scale per row of `W` (`N` of them); zero points are 0.
        scales: Vec<f32>,
    },
}

impl BsrValues {
    /// The number of stored elements (stored blocks × block area).
    pub fn element_count(&self) -> usize {
        match self {
            BsrValues::F32(values) => values.len(),
            BsrValues::F16(values) => values.len(),
            BsrValues::I8 { values, .. } => values.len(),
        }
    }

    /// The element type: [`DType::F32`], [`DType::F16`] or [`DType::I8`].
    pub fn dtype(&self) -> DType {
        match self {
            BsrValues::F32(_) => DType::F32,
            BsrValues::F16(_) => DType::F16,
            BsrValues::I8 { .. } => DType::I8,
        }
    }

    /// Whether stored element `index` is zero (of either sign).
    fn is_zero(&self, index: usize) -> bool {
        match self {
            BsrValues::F32(values) => values[index] == 0.0,
            BsrValues::F16(values) => values[index] == f16::ZERO,
            BsrValues::I8 { values, .. } => values[index] == 0,
        }
    }

    /// Stored element `index`, which lies in row `row` of `W`, as an exact f64: the f32 or f16
    /// value, or for int8 `q · scales[row]` (exact in f64: 8 and 24 significant bits multiply into
    /// at most 32). Rounding it to f32 gives the f32 product `q as f32 · scale`.
    ///
    /// # Panics
    /// If `index` is out of range, or for int8 values if `row` has no scale.
    pub fn value_f64(&self, index: usize, row: usize) -> f64 {
        match self {
            BsrValues::F32(values) => f64::from(values[index]),
            BsrValues::F16(values) => f64::from(values[index]),
            BsrValues::I8 { values, scales } => f64::from(values[index]) * f64::from(scales[row]),
        }
    }
}

/// A block-sparse `[rows, cols]` weight matrix, laid out as the module documentation describes.
#[derive(Clone, Debug, PartialEq)]
pub struct BsrMatrix {
    /// Output channels `N`.
    pub rows: usize,
    /// Reduction length `K`.
    pub cols: usize,
    /// The shape of every block.
    pub block: BlockShape,
    /// `ceil(rows / block.rows())`.
    pub block_rows_count: usize,
    /// `ceil(cols / block.cols())`.
    pub block_cols_count: usize,
    /// `block_rows_count + 1` offsets into `col_idx`: block row `i` owns `row_ptr[i]..row_ptr[i + 1]`.
    pub row_ptr: Vec<u32>,
    /// The block column of each stored block, strictly ascending within a block row.
    pub col_idx: Vec<u32>,
    /// The stored blocks back to back, each row-major `block.rows() × block.cols()`, zero outside
    /// `rows × cols`.
    pub values: BsrValues,
}

/// One stored element: where it is in `values` and in `W`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredElement {
    /// Its index into the values (and the position of its byte, half or word in the layout).
    pub index: usize,
    /// Its row `n` of `W`.
    pub row: usize,
    /// Its column `k` of `W`.
    pub col: usize,
}

impl BsrMatrix {
    /// Builds a matrix from its parts, checking them with [`BsrMatrix::validate`]; the block grid
    /// size is computed from `rows`, `cols` and `block`.
    pub fn from_parts(
        rows: usize,
        cols: usize,
        block: BlockShape,
        row_ptr: Vec<u32>,
        col_idx: Vec<u32>,
        values: BsrValues,
    ) -> Result<Self> {
        let matrix = BsrMatrix {
            rows,
            cols,
            block,
            block_rows_count: rows.div_ceil(block.rows()),
            block_cols_count: cols.div_ceil(block.cols()),
            row_ptr,
            col_idx,
            values,
        };
        matrix.validate()?;
        Ok(matrix)
    }

    /// The number of stored blocks.
    pub fn stored_blocks(&self) -> usize {
        self.col_idx.len()
    }

    /// The number of blocks in the grid, stored or not.
    pub fn total_blocks(&self) -> usize {
        self.block_rows_count * self.block_cols_count
    }

    /// The fraction of the grid's blocks that are not stored (all zero), in `[0, 1]`.
    pub fn sparsity(&self) -> f64 {
        1.0 - self.stored_blocks() as f64 / self.total_blocks() as f64
    }

    /// Every stored element inside `rows × cols` (padding left out), block row by block row and
    /// block by block, row-major within a block.
    ///
    /// # Panics
    /// If `row_ptr` or `col_idx` break the rules [`BsrMatrix::validate`] checks, which only direct
    /// edits of the public fields can do.
    pub fn stored_elements(&self) -> impl Iterator<Item = StoredElement> + '_ {
        let (rows, cols) = (self.rows, self.cols);
        self.stored_positions()
            .filter(move |element| element.row < rows && element.col < cols)
    }

    /// Every stored element, padding included, in the order of [`BsrMatrix::stored_elements`].
    fn stored_positions(&self) -> impl Iterator<Item = StoredElement> + '_ {
        let (block_rows, block_cols, area) =
            (self.block.rows(), self.block.cols(), self.block.area());
        (0..self.block_rows_count).flat_map(move |block_row| {
            let stored_range =
                self.row_ptr[block_row] as usize..self.row_ptr[block_row + 1] as usize;
            stored_range.flat_map(move |stored| {
                let block_col = self.col_idx[stored] as usize;
                (0..area).map(move |offset| StoredElement {
                    index: stored * area + offset,
                    row: block_row * block_rows + offset / block_cols,
                    col: block_col * block_cols + offset % block_cols,
                })
            })
        })
    }

    /// The stored values as bytes, laid out as the module documentation describes (for upload).
    pub fn values_bytes(&self) -> &[u8] {
        match &self.values {
            BsrValues::F32(values) => bytemuck::cast_slice(values),
            BsrValues::F16(values) => bytemuck::cast_slice(values),
            BsrValues::I8 { values, .. } => bytemuck::cast_slice(values),
        }
    }

    /// Bytes a kernel reads to visit every stored block once: `row_ptr`, `col_idx`, the values
    /// and, for int8, the scales. For bandwidth figures.
    pub fn bytes(&self) -> usize {
        let index_bytes = (self.row_ptr.len() + self.col_idx.len()) * size_of::<u32>();
        let scale_bytes = match &self.values {
            BsrValues::I8 { scales, .. } => scales.len() * size_of::<f32>(),
            _ => 0,
        };
        index_bytes + self.values_bytes().len() + scale_bytes
    }

    /// The dense row-major `[rows, cols]` matrix, int8 values dequantized as `q as f32 · scale`.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut dense = vec![0.0f32; self.rows * self.cols];
        for element in self.stored_elements() {
            let value = self.values.value_f64(element.index, element.row);
            dense[element.row * self.cols + element.col] = value as f32;
        }
        dense
    }

    /// The same matrix with f16 values: f32 values rounded to nearest, int8 values dequantized
    /// (`q as f32 · scale`) and then rounded. f16 values are returned unchanged.
    pub fn to_f16(&self) -> Self {
        let values = match &self.values {
            BsrValues::F16(values) => values.clone(),
            BsrValues::F32(values) => values.iter().map(|&value| f16::from_f32(value)).collect(),
            BsrValues::I8 { .. } => self
                .stored_values_f32()
                .into_iter()
                .map(f16::from_f32)
                .collect(),
        };
        BsrMatrix {
            values: BsrValues::F16(values),
            ..self.clone()
        }
    }

    /// Every stored element as f32 (int8 dequantized, padding 0), in the order of `values`.
    fn stored_values_f32(&self) -> Vec<f32> {
        let mut stored_values = vec![0.0f32; self.values.element_count()];
        for element in self.stored_elements() {
            let value = self.values.value_f64(element.index, element.row);
            stored_values[element.index] = value as f32;
        }
        stored_values
    }
}

#[cfg(test)]
mod tests;
