//! [`BsrMatrix::validate`]: every rule of the layout contract, checked so that hostile parts are an
//! [`Error`], never a panic or a wrong product.

use super::{BsrMatrix, BsrValues};
use crate::error::{Error, Result};

/// The operation named in validation errors.
const OP: &str = "BsrMatrix::validate";

impl BsrMatrix {
    /// Checks the layout contract of the module documentation:
    /// - `rows` and `cols` non-zero, and the block grid sized `ceil(rows / R) × ceil(cols / C)`;
    /// - `row_ptr` has `block_rows_count + 1` entries, starts at 0, never decreases and ends at
    ///   the number of stored blocks;
    /// - every `col_idx` is below `block_cols_count`, strictly ascending within its block row;
    /// - there are `stored blocks × block area` values, int8 ones with `rows` finite positive
    ///   scales;
    /// - every stored element outside `rows × cols` is 0.
    ///
    /// Wrong lengths are [`Error::ShapeMismatch`], wrong contents [`Error::InvalidArgument`].
    pub fn validate(&self) -> Result<()> {
        self.check_grid()?;
        self.check_row_ptr()?;
        self.check_col_idx()?;
        self.check_values()?;
        self.check_padding()
    }

    /// The dimensions and the block grid.
    fn check_grid(&self) -> Result<()> {
        let (rows, cols, block) = (self.rows, self.cols, self.block);
        if rows == 0 || cols == 0 || rows.checked_mul(cols).is_none() {
            let detail = format!("[{rows}, {cols}] must be non-zero with a countable product");
            return Err(Error::InvalidArgument { op: OP, detail });
        }
        let grid = (rows.div_ceil(block.rows()), cols.div_ceil(block.cols()));
        if (self.block_rows_count, self.block_cols_count) != grid {
            let (block_rows, block_cols) = (self.block_rows_count, self.block_cols_count);
            let detail = format!(
                "[{rows}, {cols}] in {block} blocks is a {} x {} grid, not {block_rows} x \
                 {block_cols}",
                grid.0, grid.1
            );
            return Err(Error::ShapeMismatch { op: OP, detail });
        }
        Ok(())
    }

    /// `row_ptr`'s length, start, order and end.
    fn check_row_ptr(&self) -> Result<()> {
        let (row_ptr, stored_blocks) = (&self.row_ptr, self.col_idx.len());
        if row_ptr.len() != self.block_rows_count + 1 {
            let (expected, got) = (self.block_rows_count + 1, row_ptr.len());
            let detail = format!("row_ptr needs {expected} entries, got {got}");
            return Err(Error::ShapeMismatch { op: OP, detail });
        }
        if row_ptr[0] != 0 {
            let detail = format!("row_ptr must start at 0, starts at {}", row_ptr[0]);
            return Err(Error::InvalidArgument { op: OP, detail });
        }
        if let Some(block_row) = row_ptr.windows(2).position(|pair| pair[1] < pair[0]) {
            let (start, end) = (row_ptr[block_row], row_ptr[block_row + 1]);
            let detail = format!("row_ptr decreases at block row {block_row}: {start} then {end}");
            return Err(Error::InvalidArgument { op: OP, detail });
        }
        let end = row_ptr[self.block_rows_count] as usize;
        if end != stored_blocks {
            let detail = format!("row_ptr ends at {end} but col_idx has {stored_blocks} blocks");
            return Err(Error::ShapeMismatch { op: OP, detail });
        }
        Ok(())
    }

    /// `col_idx` in range and strictly ascending within each block row.
    fn check_col_idx(&self) -> Result<()> {
        for (block_row, range) in self.row_ptr.windows(2).enumerate() {
            let block_cols = &self.col_idx[range[0] as usize..range[1] as usize];
            if let Some(&col) = block_cols
                .iter()
                .find(|&&col| col as usize >= self.block_cols_count)
            {
                let count = self.block_cols_count;
                let detail =
                    format!("block row {block_row} has block column {col}, but there are {count}");
                return Err(Error::InvalidArgument { op: OP, detail });
            }
            if block_cols.windows(2).any(|pair| pair[1] <= pair[0]) {
                let detail = format!(
                    "block columns of block row {block_row} are not strictly ascending: \
                     {block_cols:?}"
                );
                return Err(Error::InvalidArgument { op: OP, detail });
            }
        }
        Ok(())
    }

    /// The number of values and, for int8, the scales.
    fn check_values(&self) -> Result<()> {
        let (stored_blocks, area) = (self.col_idx.len(), self.block.area());
        let expected = stored_blocks.checked_mul(area);
        let got = self.values.element_count();
        if expected != Some(got) {
            let detail = format!(
                "{stored_blocks} blocks of {area} elements need {} values, got {got}",
                stored_blocks.saturating_mul(area)
            );
            return Err(Error::ShapeMismatch { op: OP, detail });
        }
        if let BsrValues::I8 { scales, .. } = &self.values {
            if scales.len() != self.rows {
                let (rows, got) = (self.rows, scales.len());
                let detail = format!("{rows} rows need {rows} scales, got {got}");
                return Err(Error::ShapeMismatch { op: OP, detail });
            }
            if let Some(row) = scales
                .iter()
                .position(|scale| !(scale.is_finite() && *scale > 0.0))
            {
                let detail = format!(
                    "scale of row {row} is {}; scales must be finite and positive",
                    scales[row]
                );
                return Err(Error::InvalidArgument { op: OP, detail });
            }
        }
        Ok(())
    }

    /// Zeros in the parts of edge blocks outside the matrix.
    fn check_padding(&self) -> Result<()> {
        let (rows, cols) = (self.rows, self.cols);
        let is_padding = |row: usize, col: usize| row >= rows || col >= cols;
        let bad = self.stored_positions().find(|element| {
            is_padding(element.row, element.col) && !self.values.is_zero(element.index)
        });
        match bad {
            None => Ok(()),
            Some(element) => {
                let (row, col) = (element.row, element.col);
                let detail = format!(
                    "value {} at ({row}, {col}) lies outside [{rows}, {cols}] and must be 0",
                    element.index
                );
                Err(Error::InvalidArgument { op: OP, detail })
            }
        }
    }
}
