//! N:M structured sparsity: weights with at most `N` non-zeros in every group of `M` consecutive
//! elements along `K` ([`NmPattern`]: 2:4, 1:4, 2:8, 4:8), stored as the kept values plus their
//! packed positions ([`NmSparseMatrix`]). N:M pruning produces it; N:M matmul kernels read it.
//!
//! # Layout contract (read by the GPU kernels)
//!
//! `W` is row-major `[rows, cols]` = `[N, K]` with `K` contiguous, used as `Y = X · Wᵀ`. Each row
//! is cut into `groups_per_row = ceil(K / M)` groups of `M = pattern.group` elements; `K` is
//! zero-padded to whole groups. Every group stores exactly `kept` values, so the layout is fixed:
//! - values: `rows × groups_per_row × kept` elements; slot `i` of group `g` of row `n` is value
//!   `(n · groups_per_row + g) · kept + i`. Within a group the slots are in ascending position
//!   order. [`NmValues::F32`] has 4 bytes per element; [`NmValues::F16`] 2 bytes (IEEE binary16),
//!   read as `u32` words with element `2w` in the low half of word `w`.
//! - positions: slot `i` of group `g` holds `W[n, g · M + p]`, where `p` in `0..M` is a field of
//!   `bits = log2(M)` bits (2 for `M = 4`, 3 for `M = 8`, so `p < M` by construction). Each
//!   word holds `fields_per_word = floor(32 / bits)` fields (16 or 10; no field straddles a word),
//!   low bits first, and each row starts on a new word: field `j = g · kept + i` of row `n` is bits
//!   `(j % fields_per_word) · bits..+bits` of `indices[n · words_per_row + j / fields_per_word]`,
//!   with `words_per_row = ceil(groups_per_row · kept / fields_per_word)`. Unused fields and bits
//!   are 0. For 2:4 this is one word per 32 columns (8 groups × 2 slots = 16 fields).
//! - Positions are strictly ascending within a group. A group with fewer than `kept` non-zeros
//!   fills its spare slots with zeros at its lowest unused positions.
//! - In the last group of a row, positions at `g · M + p ≥ K` are padding: they are stored only
//!   when that group has fewer than `kept` columns inside the matrix, their values are 0, and
//!   kernels must not read `X` there.
//!
//! ```
//! use kiln::tensor::nm_sparse::{NmPattern, NmSparseMatrix};
//! let dense = [0.0, 3.0, 0.0, -1.0, 5.0, 0.0, 0.0, 0.0];
//! let sparse = NmSparseMatrix::from_dense(&dense, 1, 8, NmPattern::TWO_FOUR)?;
//! // Positions (1, 3) and (0, 1), two bits each: 0b01_00_11_01.
//! assert_eq!(sparse.indices, vec![0b0100_1101]);
//! assert_eq!(sparse.to_dense(), dense);
//! # Ok::<(), kiln::Error>(())
//! ```

mod build;
mod pattern;
mod validate;

pub use pattern::NmPattern;

use half::f16;

use crate::error::Result;
use crate::tensor::DType;

/// The kept values, in one of two element types.
#[derive(Clone, Debug, PartialEq)]
pub enum NmValues {
    /// f32 values.
    F32(Vec<f32>),
    /// f16 values.
    F16(Vec<f16>),
}

impl NmValues {
    /// The number of stored values.
    pub fn element_count(&self) -> usize {
        match self {
            NmValues::F32(values) => values.len(),
            NmValues::F16(values) => values.len(),
        }
    }

    /// The element type: [`DType::F32`] or [`DType::F16`].
    pub fn dtype(&self) -> DType {
        match self {
            NmValues::F32(_) => DType::F32,
            NmValues::F16(_) => DType::F16,
        }
    }

    /// Value `index` as f32 (exact for both types).
    ///
    /// # Panics
    /// If `index` is out of range.
    pub fn value_f32(&self, index: usize) -> f32 {
        match self {
            NmValues::F32(values) => values[index],
            NmValues::F16(values) => values[index].to_f32(),
        }
    }
}

/// An N:M-sparse `[rows, cols]` weight matrix, laid out as the module documentation describes.
#[derive(Clone, Debug, PartialEq)]
pub struct NmSparseMatrix {
    /// Output channels `N`.
    pub rows: usize,
    /// Reduction length `K`.
    pub cols: usize,
    /// The N:M pattern.
    pub pattern: NmPattern,
    /// `ceil(cols / pattern.group)`.
    pub groups_per_row: usize,
    /// `rows × groups_per_row × pattern.kept` values, in ascending position order per group.
    pub values: NmValues,
    /// The packed positions, `rows × words_per_row` words.
    pub indices: Vec<u32>,
    /// `ceil(groups_per_row × pattern.kept / pattern.fields_per_word())`.
    pub words_per_row: usize,
}

impl NmSparseMatrix {
    /// Builds a matrix from its parts, checking them with [`NmSparseMatrix::validate`];
    /// `groups_per_row` and `words_per_row` are computed from `cols` and `pattern`.
    pub fn from_parts(
        rows: usize,
        cols: usize,
        pattern: NmPattern,
        values: NmValues,
        indices: Vec<u32>,
    ) -> Result<Self> {
        pattern.validate()?;
        let groups_per_row = cols.div_ceil(pattern.group);
        let matrix = NmSparseMatrix {
            rows,
            cols,
            pattern,
            groups_per_row,
            values,
            indices,
            words_per_row: (groups_per_row * pattern.kept).div_ceil(pattern.fields_per_word()),
        };
        matrix.validate()?;
        Ok(matrix)
    }

    /// The position in its group (`0..group`) of slot `slot` (`0..groups_per_row × kept`, group
    /// by group) of row `row`.
    ///
    /// # Panics
    /// If `row` or `slot` is out of range.
    pub fn position(&self, row: usize, slot: usize) -> usize {
        let (bits, fields_per_word) = (self.pattern.index_bits(), self.pattern.fields_per_word());
        let word = self.indices[row * self.words_per_row + slot / fields_per_word];
        let shift = slot % fields_per_word * bits;
        ((word >> shift) & ((1 << bits) - 1)) as usize
    }

    /// The dense row-major `[rows, cols]` matrix.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut dense = vec![0.0f32; self.rows * self.cols];
        let slots_per_row = self.groups_per_row * self.pattern.kept;
        for row in 0..self.rows {
            for slot in 0..slots_per_row {
                let col = slot / self.pattern.kept * self.pattern.group + self.position(row, slot);
                if col < self.cols {
                    dense[row * self.cols + col] =
                        self.values.value_f32(row * slots_per_row + slot);
                }
            }
        }
        dense
    }

    /// The same matrix with f16 values (f32 rounded to nearest; f16 returned unchanged).
    pub fn to_f16(&self) -> Self {
        let values = match &self.values {
            NmValues::F32(values) => values.iter().map(|&value| f16::from_f32(value)).collect(),
            NmValues::F16(values) => values.clone(),
        };
        NmSparseMatrix {
            values: NmValues::F16(values),
            ..self.clone()
        }
    }

    /// The values as bytes, laid out as the module documentation describes (for upload).
    pub fn values_bytes(&self) -> &[u8] {
        match &self.values {
            NmValues::F32(values) => bytemuck::cast_slice(values),
            NmValues::F16(values) => bytemuck::cast_slice(values),
        }
    }

    /// Bytes a kernel reads to visit every stored value once: values and packed positions.
    pub fn bytes(&self) -> usize {
        self.values_bytes().len() + self.indices.len() * size_of::<u32>()
    }
}

#[cfg(test)]
mod tests;
