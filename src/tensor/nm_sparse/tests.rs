//! Tests of the N:M layout: exact round trips, the refusal to prune silently, magnitude pruning,
//! hand-packed position words and validation.

use super::*;
use crate::check::SeededRng;
use crate::error::Error;

/// A `[rows, cols]` matrix that follows `pattern`: each group (zero-padded past `cols`) holds
/// between 0 and `kept` non-zeros at random distinct positions.
fn pattern_matrix(seed: u64, rows: usize, cols: usize, pattern: NmPattern) -> Vec<f32> {
    let mut rng = SeededRng::new(seed);
    let mut dense = vec![0.0; rows * cols];
    for dense_row in dense.chunks_exact_mut(cols) {
        for group in dense_row.chunks_mut(pattern.group) {
            let non_zeros = rng.int_in(0, pattern.kept as i32) as usize;
            for _ in 0..non_zeros {
                let position = rng.int_in(0, pattern.group as i32 - 1) as usize;
                if let Some(value) = group.get_mut(position) {
                    *value = rng.uniform(0.5, 1.0) * if rng.int_in(0, 1) == 0 { -1.0 } else { 1.0 };
                }
            }
        }
    }
    dense
}

/// `result` is `Err` of the expected kind with `needle` in its message.
fn assert_error(result: Result<NmSparseMatrix>, shape_mismatch: bool, needle: &str) {
    match result {
        Err(error @ Error::ShapeMismatch { .. }) if shape_mismatch => {
            assert!(error.to_string().contains(needle), "{error}")
        }
        Err(error @ Error::InvalidArgument { .. }) if !shape_mismatch => {
            assert!(error.to_string().contains(needle), "{error}")
        }
        other => panic!("expected an error mentioning '{needle}', got {other:?}"),
    }
}

#[test]
fn round_trip_is_exact_for_every_pattern_and_width() {
    for (seed, pattern) in (1..).zip(NmPattern::ALL) {
        for (rows, cols) in [(16, 64), (37, 45), (1, 1), (3, 7), (5, 33)] {
            let dense = pattern_matrix(seed, rows, cols, pattern);
            let matrix = NmSparseMatrix::from_dense(&dense, rows, cols, pattern).unwrap();
            let context = format!("{pattern} [{rows}, {cols}]");
            matrix.validate().unwrap();
            assert_eq!(matrix.to_dense(), dense, "{context}");
            assert_eq!(
                matrix.groups_per_row,
                cols.div_ceil(pattern.group),
                "{context}"
            );
            let (values, indices) = (matrix.values.clone(), matrix.indices.clone());
            let rebuilt = NmSparseMatrix::from_parts(rows, cols, pattern, values, indices);
            assert_eq!(rebuilt.unwrap(), matrix, "{context}");
            let pruned = NmSparseMatrix::prune_by_magnitude(&dense, rows, cols, pattern).unwrap();
            assert_eq!(
                pruned.to_dense(),
                dense,
                "pruning a valid {context} changes nothing"
            );
            let half = matrix.to_f16();
            half.validate().unwrap();
            let rounded: Vec<f32> = dense.iter().map(|&v| f16::from_f32(v).to_f32()).collect();
            assert_eq!(
                (half.to_dense(), half.values.dtype()),
                (rounded, DType::F16)
            );
        }
    }
}

#[test]
fn from_dense_refuses_to_prune() {
    let valid = [0.0, 1.0, 0.0, 2.0, /* row 1 */ 3.0, 0.0, 0.0, 0.0];
    assert!(NmSparseMatrix::from_dense(&valid, 2, 4, NmPattern::TWO_FOUR).is_ok());
    let three_non_zeros = [0.0, 1.0, 0.0, 2.0, /* row 1 */ 3.0, 0.0, 4.0, 5.0];
    let result = NmSparseMatrix::from_dense(&three_non_zeros, 2, 4, NmPattern::TWO_FOUR);
    assert_error(result, false, "row 1, group 0");
    let nan = [0.0, 0.0, 0.0, 0.0, f32::NAN, 1.0, 0.0, 0.0];
    let result = NmSparseMatrix::from_dense(&nan, 1, 8, NmPattern::ONE_FOUR);
    assert_error(result, false, "row 0, group 1 (columns 4..8)");
    let wrong_length = NmSparseMatrix::from_dense(&valid, 3, 4, NmPattern::TWO_FOUR);
    assert_error(wrong_length, true, "needs 12 values");
    let bad_pattern = NmSparseMatrix::from_dense(&valid, 2, 4, NmPattern { kept: 3, group: 4 });
    assert_error(bad_pattern, false, "3:4");
}

#[test]
fn prune_keeps_the_largest_magnitudes_per_group() {
    let mut rng = SeededRng::new(11);
    let (rows, cols) = (9, 45);
    let dense = rng.uniform_vec(rows * cols, -1.0, 1.0);
    for pattern in NmPattern::ALL {
        let pruned = NmSparseMatrix::prune_by_magnitude(&dense, rows, cols, pattern).unwrap();
        pruned.validate().unwrap();
        let pruned_dense = pruned.to_dense();
        for (row, (row_values, pruned_row)) in dense
            .chunks(cols)
            .zip(pruned_dense.chunks(cols))
            .enumerate()
        {
            for (group, (values, kept)) in row_values
                .chunks(pattern.group)
                .zip(pruned_row.chunks(pattern.group))
                .enumerate()
            {
                let mut magnitudes: Vec<f32> = values.iter().map(|v| v.abs()).collect();
                magnitudes.sort_by(|a, b| b.total_cmp(a));
                let threshold = magnitudes.get(pattern.kept - 1).copied().unwrap_or(0.0);
                for (&value, &kept_value) in values.iter().zip(kept) {
                    let expected = if value.abs() >= threshold { value } else { 0.0 };
                    assert_eq!(kept_value, expected, "{pattern} row {row} group {group}");
                }
            }
        }
    }
    let ties =
        NmSparseMatrix::prune_by_magnitude(&[1.0, -1.0, 1.0, 0.5], 1, 4, NmPattern::TWO_FOUR);
    assert_eq!(ties.unwrap().to_dense(), vec![1.0, -1.0, 0.0, 0.0]);
    let infinite =
        NmSparseMatrix::prune_by_magnitude(&[f32::INFINITY; 4], 1, 4, NmPattern::TWO_FOUR);
    assert_error(infinite, false, "row 0, col 0");
}

#[test]
fn two_bit_positions_pack_sixteen_to_a_word() {
    // Per group of 4: the non-zero positions; group 7 has one, so position 0 fills its spare slot.
    let positions = [
        [1, 3],
        [0, 1],
        [2, 3],
        [0, 2],
        [1, 2],
        [0, 3],
        [0, 1],
        [3, 3],
        [2, 3],
    ];
    let mut dense = vec![0.0f32; 36];
    for (group, pair) in positions.iter().enumerate() {
        pair.iter()
            .for_each(|&position| dense[group * 4 + position] = 1.0 + position as f32);
    }
    let matrix = NmSparseMatrix::from_dense(&dense, 1, 36, NmPattern::TWO_FOUR).unwrap();
    assert_eq!((matrix.groups_per_row, matrix.words_per_row), (9, 2));
    // Fields 0..16 (groups 0..8), field 0 in the low bits: 1 3 0 1 2 3 0 2 1 2 0 3 0 1 0 3.
    let first_word = 0b11_00_01_00_11_00_10_01_10_00_11_10_01_00_11_01;
    assert_eq!(matrix.indices, vec![first_word, 0b11_10]);
    assert_eq!(matrix.position(0, 15), 3);
    assert_eq!(matrix.to_dense(), dense);
    let words =
        |cols, pattern| NmSparseMatrix::prune_by_magnitude(&vec![1.0; cols], 1, cols, pattern);
    assert_eq!(words(32, NmPattern::TWO_FOUR).unwrap().indices.len(), 1);
    assert_eq!(words(64, NmPattern::ONE_FOUR).unwrap().words_per_row, 1);
    assert_eq!(words(32, NmPattern::FOUR_EIGHT).unwrap().words_per_row, 2);
}

#[test]
fn three_bit_positions_pack_ten_to_a_word() {
    let positions = [[0, 7], [3, 5], [1, 2], [6, 7], [0, 4], [2, 6]];
    let mut dense = vec![0.0f32; 48];
    for (group, pair) in positions.iter().enumerate() {
        pair.iter()
            .for_each(|&position| dense[group * 8 + position] = -(position as f32) - 1.0);
    }
    let matrix = NmSparseMatrix::from_dense(&dense, 1, 48, NmPattern::TWO_EIGHT).unwrap();
    // Octal digits are 3-bit fields: fields 0..10 are 0 7 3 5 1 2 6 7 0 4; bits 30 and 31 unused.
    assert_eq!(matrix.indices, vec![0o4076215370, 0o62]);
    // 4:8, [2, 10]: one word per row; row 0's last group has columns 8 and 9 only, so its spare
    // slots take padding positions 2 and 3 (columns 10 and 11).
    let mut dense = vec![0.0f32; 20];
    dense[..4].fill(1.0); // row 0, group 0: positions 0..4
    dense[8..10].fill(1.0); // row 0, group 1: positions 0, 1
    dense[14..18].fill(1.0); // row 1, group 0: positions 4..8
    dense[19] = 2.0; // row 1, group 1: position 1; spare slots take 0, 2 and 3
    let matrix = NmSparseMatrix::from_dense(&dense, 2, 10, NmPattern::FOUR_EIGHT).unwrap();
    assert_eq!(matrix.indices, vec![0o32103210, 0o32107654]);
    assert_eq!(&matrix.values_bytes()[..4], &1.0f32.to_le_bytes());
    assert_eq!(matrix.to_dense(), dense);
    assert_eq!(matrix.bytes(), 2 * 8 * 4 + 2 * 4);
}

#[test]
fn validate_rejects_hostile_parts() {
    let pattern = NmPattern::TWO_FOUR;
    // [1, 6]: two groups, the second with columns 4 and 5 only; positions (0, 2) and (0, 1).
    let good_word = 0b01_00_10_00;
    let build = |values: Vec<f32>, indices: Vec<u32>| {
        NmSparseMatrix::from_parts(1, 6, pattern, NmValues::F32(values), indices)
    };
    assert!(build(vec![1.0, 2.0, 3.0, 4.0], vec![good_word]).is_ok());
    let repeated = 0b01_00_00_00;
    assert_error(
        build(vec![1.0; 4], vec![repeated]),
        false,
        "not strictly ascending",
    );
    let descending = 0b01_00_00_10;
    assert_error(
        build(vec![1.0; 4], vec![descending]),
        false,
        "row 0, group 0",
    );
    let stray_bit = good_word | 1 << 8;
    assert_error(build(vec![1.0; 4], vec![stray_bit]), false, "low 8 bits");
    assert_error(
        build(vec![1.0; 4], vec![good_word, 0]),
        true,
        "1 index words",
    );
    assert_error(build(vec![1.0; 3], vec![good_word]), true, "4 values");
    let padding_position = 0b10_00_10_00; // group 1 position 2 is column 6, past the 6 columns
    assert_error(
        build(vec![1.0; 4], vec![padding_position]),
        false,
        "column 6",
    );
    assert!(build(vec![1.0, 2.0, 3.0, 0.0], vec![padding_position]).is_ok());
    let odd_pattern = NmPattern { kept: 2, group: 6 };
    let result =
        NmSparseMatrix::from_parts(1, 6, odd_pattern, NmValues::F32(vec![0.0; 2]), vec![0]);
    assert_error(result, false, "2:6");
    let empty = NmSparseMatrix::from_parts(0, 6, pattern, NmValues::F32(Vec::new()), Vec::new());
    assert_error(empty, false, "non-zero");
    let mut matrix = build(vec![1.0, 2.0, 3.0, 4.0], vec![good_word]).unwrap();
    matrix.words_per_row = 2;
    assert_error(
        Err(matrix.validate().unwrap_err()),
        true,
        "1 words per row, got 2 and 2",
    );
}
