//! Building a [`BsrMatrix`] from dense weights (every non-zero block, the blocks of a mask, or the
//! blocks with the largest norms) and quantizing one to int8.

use super::{BlockShape, BsrMatrix, BsrValues};
use crate::error::{Error, Result};
use crate::tensor::quant::{check_finite, check_matrix_len, minmax_params, quantize_i8};

impl BsrMatrix {
    /// Stores every block of the row-major `[rows, cols]` matrix `dense` that holds a non-zero
    /// element (NaN counts as non-zero), so [`BsrMatrix::to_dense`] gives `dense` back exactly.
    pub fn from_dense_f32(
        dense: &[f32],
        rows: usize,
        cols: usize,
        block: BlockShape,
    ) -> Result<Self> {
        let op = "BsrMatrix::from_dense_f32";
        let blocked = BlockedCopy::new(op, dense, rows, cols, block)?;
        let area = block.area();
        let has_non_zero = |values: &[f32]| values.iter().any(|&value| value != 0.0);
        let keep: Vec<bool> = blocked
            .values
            .chunks_exact(area)
            .map(has_non_zero)
            .collect();
        blocked.select(op, &keep)
    }

    /// Stores exactly the blocks whose `keep` flag is set, zero or not; the elements of the other
    /// blocks are dropped. `keep` has `block_rows_count × block_cols_count` flags, row-major over
    /// the block grid (block `(i, j)` is flag `i · block_cols_count + j`).
    pub fn from_dense_with_mask(
        dense: &[f32],
        rows: usize,
        cols: usize,
        block: BlockShape,
        keep: &[bool],
    ) -> Result<Self> {
        let op = "BsrMatrix::from_dense_with_mask";
        let blocked = BlockedCopy::new(op, dense, rows, cols, block)?;
        let total_blocks = blocked.block_rows_count * blocked.block_cols_count;
        if keep.len() != total_blocks {
            let (grid_rows, grid_cols) = (blocked.block_rows_count, blocked.block_cols_count);
            let detail = format!(
                "the {grid_rows} x {grid_cols} block grid needs {total_blocks} keep flags, got {}",
                keep.len()
            );
            return Err(Error::ShapeMismatch { op, detail });
        }
        blocked.select(op, keep)
    }

    /// Block magnitude pruning: keeps the `round((1 − target_sparsity) · total blocks)` blocks
    /// (halves rounded away from zero) with the largest L2 norms, ties going to the lower block
    /// index `i · block_cols_count + j`, and drops the rest. Kept blocks are stored even when
    /// they are all zero, so [`BsrMatrix::sparsity`] is the target up to that rounding.
    ///
    /// Norms are summed in f64 from exact squares. `target_sparsity` outside `[0, 1]` or NaN, and
    /// non-finite weights, are [`Error::InvalidArgument`].
    pub fn prune_by_magnitude(
        dense: &[f32],
        rows: usize,
        cols: usize,
        block: BlockShape,
        target_sparsity: f32,
    ) -> Result<Self> {
        let op = "BsrMatrix::prune_by_magnitude";
        if !(0.0..=1.0).contains(&target_sparsity) {
            let detail = format!("target sparsity {target_sparsity} is not in [0, 1]");
            return Err(Error::InvalidArgument { op, detail });
        }
        let blocked = BlockedCopy::new(op, dense, rows, cols, block)?;
        check_finite(op, dense, cols)?;
        let squared_norm = |values: &[f32]| {
            let square = |&value: &f32| f64::from(value) * f64::from(value);
            values.iter().map(square).sum::<f64>()
        };
        let norms: Vec<f64> = blocked
            .values
            .chunks_exact(block.area())
            .map(squared_norm)
            .collect();
        let kept_count = ((1.0 - f64::from(target_sparsity)) * norms.len() as f64).round() as usize;
        let mut by_norm: Vec<usize> = (0..norms.len()).collect();
        by_norm.sort_by(|&a, &b| norms[b].total_cmp(&norms[a]).then(a.cmp(&b)));
        let mut keep = vec![false; norms.len()];
        for &block_index in &by_norm[..kept_count] {
            keep[block_index] = true;
        }
        blocked.select(op, &keep)
    }

    /// The same blocks with symmetric int8 values: per row `n` of `W`, `scale = amax / 127` over
    /// the row's stored values (scale 1.0 for a row whose stored values are all zero or that has
    /// none), and `q = quantize_i8(w, scale, 0)` with ONNX rounding ([`quantize_i8`]), as
    /// symmetric [`crate::tensor::Q8Weights`] does. Int8 values are returned unchanged.
    /// Non-finite values are [`Error::InvalidArgument`].
    pub fn quantize_i8(&self) -> Result<Self> {
        let op = "BsrMatrix::quantize_i8";
        if let BsrValues::I8 { .. } = self.values {
            return Ok(self.clone());
        }
        let stored_values = self.stored_values_f32();
        let mut row_amax = vec![0.0f32; self.rows];
        for element in self.stored_elements() {
            let value = stored_values[element.index];
            if !value.is_finite() {
                let (row, col) = (element.row, element.col);
                let detail = format!("value at row {row}, col {col} is {value}");
                return Err(Error::InvalidArgument { op, detail });
            }
            row_amax[element.row] = row_amax[element.row].max(value.abs());
        }
        let scale_of = |&amax: &f32| minmax_params(-amax, amax, -128, 127, true).map(|p| p.scale);
        let scales = row_amax
            .iter()
            .map(scale_of)
            .collect::<Result<Vec<f32>>>()?;
        let mut values = vec![0i8; stored_values.len()];
        for element in self.stored_elements() {
            let value = stored_values[element.index];
            values[element.index] = quantize_i8(value, scales[element.row], 0);
        }
        Ok(BsrMatrix {
            values: BsrValues::I8 { values, scales },
            ..self.clone()
        })
    }
}

/// A dense matrix copied block by block: every block of the grid, row-major over the grid, each
/// row-major inside and zero-padded at the edges.
struct BlockedCopy {
    rows: usize,
    cols: usize,
    block: BlockShape,
    block_rows_count: usize,
    block_cols_count: usize,
    values: Vec<f32>,
}

impl BlockedCopy {
    /// Checks `dense` against `[rows, cols]` and copies it into blocks.
    fn new(
        op: &'static str,
        dense: &[f32],
        rows: usize,
        cols: usize,
        block: BlockShape,
    ) -> Result<Self> {
        check_matrix_len(op, dense.len(), rows, cols)?;
        let (block_rows_count, block_cols_count) =
            (rows.div_ceil(block.rows()), cols.div_ceil(block.cols()));
        let padded_len = block_rows_count
            .checked_mul(block_cols_count)
            .and_then(|blocks| blocks.checked_mul(block.area()));
        let detail = format!("[{rows}, {cols}] padded to {block} blocks has too many elements");
        let mut values = vec![0.0f32; padded_len.ok_or(Error::InvalidArgument { op, detail })?];
        let (block_rows, block_cols, area) = (block.rows(), block.cols(), block.area());
        for (row, dense_row) in dense.chunks_exact(cols).enumerate() {
            for (col, &value) in dense_row.iter().enumerate() {
                let block_index = row / block_rows * block_cols_count + col / block_cols;
                values[block_index * area + row % block_rows * block_cols + col % block_cols] =
                    value;
            }
        }
        Ok(BlockedCopy {
            rows,
            cols,
            block,
            block_rows_count,
            block_cols_count,
            values,
        })
    }

    /// The f32 BSR matrix of the blocks whose flag in `keep` (one per grid block) is set.
    fn select(self, op: &'static str, keep: &[bool]) -> Result<BsrMatrix> {
        let area = self.block.area();
        let too_large = |what: &str| Error::InvalidArgument {
            op,
            detail: format!("{what} does not fit the u32 indices of the BSR layout"),
        };
        let mut row_ptr = vec![0u32];
        let (mut col_idx, mut values) = (Vec::new(), Vec::new());
        for block_row in 0..self.block_rows_count {
            for block_col in 0..self.block_cols_count {
                let block_index = block_row * self.block_cols_count + block_col;
                if keep[block_index] {
                    col_idx.push(u32::try_from(block_col).map_err(|_| too_large("block column"))?);
                    values.extend_from_slice(&self.values[block_index * area..][..area]);
                }
            }
            row_ptr.push(u32::try_from(col_idx.len()).map_err(|_| too_large("block count"))?);
        }
        Ok(BsrMatrix {
            rows: self.rows,
            cols: self.cols,
            block: self.block,
            block_rows_count: self.block_rows_count,
            block_cols_count: self.block_cols_count,
            row_ptr,
            col_idx,
            values: BsrValues::F32(values),
        })
    }
}
