//! [`NmSparseMatrix::validate`]: every rule of the layout contract, checked so that hostile parts
//! are an [`Error`], never a panic or a wrong product.

use super::NmSparseMatrix;
use crate::error::{Error, Result};

/// The operation named in validation errors.
const OP: &str = "NmSparseMatrix::validate";

impl NmSparseMatrix {
    /// Checks the layout contract of the module documentation: a valid pattern; non-zero `rows`
    /// and `cols`; `groups_per_row` and `words_per_row` as defined; `rows × words_per_row` index
    /// words whose unused fields and bits are 0; `rows × groups_per_row × kept` values; positions
    /// strictly ascending within every group (each is below `group` by its field width); and
    /// zero values at padding positions past `cols`. Wrong lengths are [`Error::ShapeMismatch`],
    /// wrong contents [`Error::InvalidArgument`].
    pub fn validate(&self) -> Result<()> {
        self.pattern.validate()?;
        self.check_lengths()?;
        self.check_unused_bits()?;
        self.check_positions()
    }

    /// The dimensions, the per-row counts and the lengths of `indices` and `values`.
    fn check_lengths(&self) -> Result<()> {
        let (rows, cols, pattern) = (self.rows, self.cols, self.pattern);
        if rows == 0 || cols == 0 || rows.checked_mul(cols).is_none() {
            let detail = format!("[{rows}, {cols}] must be non-zero with a countable product");
            return Err(Error::InvalidArgument { op: OP, detail });
        }
        let groups_per_row = cols.div_ceil(pattern.group);
        let slots_per_row = groups_per_row * pattern.kept;
        let words_per_row = slots_per_row.div_ceil(pattern.fields_per_word());
        if (self.groups_per_row, self.words_per_row) != (groups_per_row, words_per_row) {
            let (groups, words) = (self.groups_per_row, self.words_per_row);
            let detail = format!(
                "{cols} columns in {pattern} need {groups_per_row} groups and {words_per_row} \
                 words per row, got {groups} and {words}"
            );
            return Err(Error::ShapeMismatch { op: OP, detail });
        }
        let expected = (
            rows.checked_mul(words_per_row),
            rows.checked_mul(slots_per_row),
        );
        let (index_words, values) = (self.indices.len(), self.values.element_count());
        if expected != (Some(index_words), Some(values)) {
            let detail = format!(
                "{rows} rows need {} index words and {} values, got {index_words} and {values}",
                rows.saturating_mul(words_per_row),
                rows.saturating_mul(slots_per_row),
            );
            return Err(Error::ShapeMismatch { op: OP, detail });
        }
        Ok(())
    }

    /// Zeros in the bits of every index word that hold no field.
    fn check_unused_bits(&self) -> Result<()> {
        let (bits, fields_per_word) = (self.pattern.index_bits(), self.pattern.fields_per_word());
        let slots_per_row = self.groups_per_row * self.pattern.kept;
        for (word_index, &word) in self.indices.iter().enumerate() {
            let (row, word_in_row) = (
                word_index / self.words_per_row,
                word_index % self.words_per_row,
            );
            let fields = (slots_per_row - word_in_row * fields_per_word).min(fields_per_word);
            let used_bits = fields * bits; // at most 32
            let used_mask = u32::MAX >> (u32::BITS as usize - used_bits);
            if word & !used_mask != 0 {
                let detail = format!(
                    "index word {word_in_row} of row {row} is {word:#010x}; only its low \
                     {used_bits} bits hold positions and the rest must be 0"
                );
                return Err(Error::InvalidArgument { op: OP, detail });
            }
        }
        Ok(())
    }

    /// Positions strictly ascending within each group, and zero values past `cols`.
    fn check_positions(&self) -> Result<()> {
        let (kept, group) = (self.pattern.kept, self.pattern.group);
        let slots_per_row = self.groups_per_row * kept;
        for row in 0..self.rows {
            for group_index in 0..self.groups_per_row {
                let slots = group_index * kept..(group_index + 1) * kept;
                let positions: Vec<usize> =
                    slots.clone().map(|slot| self.position(row, slot)).collect();
                if positions.windows(2).any(|pair| pair[1] <= pair[0]) {
                    let detail = format!(
                        "positions {positions:?} of row {row}, group {group_index} are not \
                         strictly ascending"
                    );
                    return Err(Error::InvalidArgument { op: OP, detail });
                }
                for (slot, &position) in slots.zip(&positions) {
                    let col = group_index * group + position;
                    let value = self.values.value_f32(row * slots_per_row + slot);
                    if col >= self.cols && value != 0.0 {
                        let cols = self.cols;
                        let detail = format!(
                            "row {row} stores {value} at column {col}, past the {cols} columns"
                        );
                        return Err(Error::InvalidArgument { op: OP, detail });
                    }
                }
            }
        }
        Ok(())
    }
}
