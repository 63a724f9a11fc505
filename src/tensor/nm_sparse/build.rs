//! Building an [`NmSparseMatrix`] from dense weights: exactly (the weights must already follow the
//! pattern) or by magnitude pruning.

use super::{NmPattern, NmSparseMatrix, NmValues};
use crate::error::{Error, Result};
use crate::tensor::quant::{check_finite, check_matrix_len};

/// The largest group size ([`NmPattern::validate`] allows 4 and 8).
const MAX_GROUP: usize = 8;

impl NmSparseMatrix {
    /// Stores row-major `[rows, cols]` weights that already follow `pattern`, exactly: a group
    /// with more than `pattern.kept` non-zeros (NaN counts as non-zero) is
    /// [`Error::InvalidArgument`] naming its row and group; nothing is pruned silently. Spare
    /// slots take the group's lowest unused positions.
    pub fn from_dense(dense: &[f32], rows: usize, cols: usize, pattern: NmPattern) -> Result<Self> {
        let op = "NmSparseMatrix::from_dense";
        let select = |group_values: &[f32], row: usize, group_index: usize| {
            non_zero_positions(group_values, pattern.kept).ok_or_else(|| {
                let non_zeros = group_values.iter().filter(|&&value| value != 0.0).count();
                let first_col = group_index * pattern.group;
                let end_col = (first_col + pattern.group).min(cols);
                let detail = format!(
                    "row {row}, group {group_index} (columns {first_col}..{end_col}) has \
                     {non_zeros} non-zeros, more than {pattern} allows; prune it first"
                );
                Error::InvalidArgument { op, detail }
            })
        };
        Self::from_groups(op, dense, rows, cols, pattern, select)
    }

    /// N:M magnitude pruning: in every group keeps the `pattern.kept` elements of largest `|w|`,
    /// ties going to the lower position, and zeroes the rest. Non-finite weights are
    /// [`Error::InvalidArgument`].
    pub fn prune_by_magnitude(
        dense: &[f32],
        rows: usize,
        cols: usize,
        pattern: NmPattern,
    ) -> Result<Self> {
        let op = "NmSparseMatrix::prune_by_magnitude";
        check_matrix_len(op, dense.len(), rows, cols)?;
        check_finite(op, dense, cols)?;
        let select = |group_values: &[f32], _, _| Ok(largest_positions(group_values, pattern.kept));
        Self::from_groups(op, dense, rows, cols, pattern, select)
    }

    /// Builds the matrix group by group: `select` gets a group's `pattern.group` values (zero past
    /// `cols`), its row and its index, and returns the `pattern.kept` positions to store,
    /// ascending and distinct.
    fn from_groups(
        op: &'static str,
        dense: &[f32],
        rows: usize,
        cols: usize,
        pattern: NmPattern,
        select: impl Fn(&[f32], usize, usize) -> Result<Vec<usize>>,
    ) -> Result<Self> {
        pattern.validate()?;
        check_matrix_len(op, dense.len(), rows, cols)?;
        let groups_per_row = cols.div_ceil(pattern.group);
        let (bits, fields_per_word) = (pattern.index_bits(), pattern.fields_per_word());
        let words_per_row = (groups_per_row * pattern.kept).div_ceil(fields_per_word);
        let mut values = Vec::with_capacity(rows * groups_per_row * pattern.kept);
        let mut indices = vec![0u32; rows * words_per_row];
        for (row, dense_row) in dense.chunks_exact(cols).enumerate() {
            let row_words = &mut indices[row * words_per_row..][..words_per_row];
            for (group_index, in_matrix) in dense_row.chunks(pattern.group).enumerate() {
                let mut group_values = [0.0f32; MAX_GROUP];
                group_values[..in_matrix.len()].copy_from_slice(in_matrix);
                let group_values = &group_values[..pattern.group];
                let positions = select(group_values, row, group_index)?;
                for (slot_in_group, &position) in positions.iter().enumerate() {
                    let slot = group_index * pattern.kept + slot_in_group;
                    row_words[slot / fields_per_word] |=
                        (position as u32) << (slot % fields_per_word * bits);
                    values.push(group_values[position]);
                }
            }
        }
        Ok(NmSparseMatrix {
            rows,
            cols,
            pattern,
            groups_per_row,
            values: NmValues::F32(values),
            indices,
            words_per_row,
        })
    }
}

/// The positions to store for a group that already follows the pattern: its non-zeros (NaN
/// included) and, for the spare slots, its lowest unused positions; ascending. `None` if it has
/// more than `kept` non-zeros.
fn non_zero_positions(group_values: &[f32], kept: usize) -> Option<Vec<usize>> {
    let (mut positions, zeros): (Vec<usize>, Vec<usize>) =
        (0..group_values.len()).partition(|&position| group_values[position] != 0.0);
    let spare_count = kept.checked_sub(positions.len())?;
    positions.extend(zeros.into_iter().take(spare_count));
    positions.sort_unstable();
    Some(positions)
}

/// The `kept` positions of largest `|w|` in a group, ties going to the lower position; ascending.
fn largest_positions(group_values: &[f32], kept: usize) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..group_values.len()).collect();
    let magnitude = |position: usize| group_values[position].abs();
    positions.sort_by(|&a, &b| magnitude(b).total_cmp(&magnitude(a)).then(a.cmp(&b)));
    positions.truncate(kept);
    positions.sort_unstable();
    positions
}
