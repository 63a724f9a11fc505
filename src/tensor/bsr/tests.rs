//! Tests of the BSR layout: exact round trips, pruning, int8 quantization and validation.

use super::*;
use crate::check::SeededRng;
use crate::tensor::quant::quantize_i8;
use crate::tensor::{Q8Scheme, Q8Weights};

/// Shapes that are multiples of every block, of none, and smaller than a block.
const SHAPES: [(usize, usize); 5] = [(64, 64), (37, 45), (1, 1), (33, 7), (5, 70)];

/// A `[rows, cols]` matrix whose blocks are all zero with probability `zero_fraction`; the other
/// blocks hold values in `[-1, 1)`, about a tenth of them zero.
fn blocky_matrix(
    seed: u64,
    rows: usize,
    cols: usize,
    block: BlockShape,
    zero_fraction: f32,
) -> Vec<f32> {
    let mut rng = SeededRng::new(seed);
    let grid_cols = cols.div_ceil(block.cols());
    let grid_size = rows.div_ceil(block.rows()) * grid_cols;
    let zero_blocks: Vec<bool> = (0..grid_size)
        .map(|_| rng.uniform(0.0, 1.0) < zero_fraction)
        .collect();
    let mut dense = vec![0.0; rows * cols];
    for (index, value) in dense.iter_mut().enumerate() {
        let block_index = index / cols / block.rows() * grid_cols + index % cols / block.cols();
        if !zero_blocks[block_index] && rng.uniform(0.0, 1.0) >= 0.1 {
            *value = rng.uniform(-1.0, 1.0);
        }
    }
    dense
}

/// The block index (row-major over the grid) of every non-zero element, sorted and deduplicated.
fn non_zero_blocks(dense: &[f32], cols: usize, block: BlockShape) -> Vec<usize> {
    let grid_cols = cols.div_ceil(block.cols());
    let mut blocks: Vec<usize> = (0..dense.len())
        .filter(|&index| dense[index] != 0.0)
        .map(|index| index / cols / block.rows() * grid_cols + index % cols / block.cols())
        .collect();
    blocks.sort_unstable();
    blocks.dedup();
    blocks
}

/// The grid index of every stored block of `matrix`.
fn stored_block_indices(matrix: &BsrMatrix) -> Vec<usize> {
    let mut indices = Vec::new();
    for block_row in 0..matrix.block_rows_count {
        for stored in matrix.row_ptr[block_row]..matrix.row_ptr[block_row + 1] {
            indices.push(
                block_row * matrix.block_cols_count + matrix.col_idx[stored as usize] as usize,
            );
        }
    }
    indices
}

#[test]
fn block_shape_names_round_trip() {
    for block in BlockShape::ALL {
        assert_eq!(block.to_string().parse::<BlockShape>().unwrap(), block);
        assert_eq!(block.area() % 16, 0, "{block}");
    }
    assert_eq!(" 1X32 ".parse::<BlockShape>().unwrap(), BlockShape::B1x32);
    assert_eq!(
        (BlockShape::B32x1.rows(), BlockShape::B32x1.cols()),
        (32, 1)
    );
    for bad in ["", "4", "4x8", "2x2", "x"] {
        assert!(
            matches!(
                bad.parse::<BlockShape>(),
                Err(Error::InvalidArgument { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn round_trip_is_exact_for_every_block_shape_and_size() {
    for (seed, block) in (1..).zip(BlockShape::ALL) {
        for (rows, cols) in SHAPES {
            let dense = blocky_matrix(seed, rows, cols, block, 0.4);
            let matrix = BsrMatrix::from_dense_f32(&dense, rows, cols, block).unwrap();
            let context = format!("{block} [{rows}, {cols}]");
            matrix.validate().unwrap();
            assert_eq!(matrix.to_dense(), dense, "{context}");
            assert_eq!(
                stored_block_indices(&matrix),
                non_zero_blocks(&dense, cols, block),
                "{context}"
            );
            let (row_ptr, col_idx) = (matrix.row_ptr.clone(), matrix.col_idx.clone());
            let rebuilt =
                BsrMatrix::from_parts(rows, cols, block, row_ptr, col_idx, matrix.values.clone());
            assert_eq!(rebuilt.unwrap(), matrix, "{context}");
            let half = matrix.to_f16();
            half.validate().unwrap();
            let rounded: Vec<f32> = dense
                .iter()
                .map(|&value| f16::from_f32(value).to_f32())
                .collect();
            assert_eq!(half.to_dense(), rounded, "{context}");
            assert_eq!(half.to_f16(), half);
        }
    }
}

#[test]
fn sparsity_levels_store_the_expected_block_counts() {
    let (rows, cols) = (37, 45);
    for block in BlockShape::ALL {
        let dense = blocky_matrix(9, rows, cols, block, 0.0);
        for target in [0.0f32, 0.5, 0.75, 0.9, 1.0] {
            let matrix = BsrMatrix::prune_by_magnitude(&dense, rows, cols, block, target).unwrap();
            matrix.validate().unwrap();
            let total = matrix.total_blocks();
            let expected = ((1.0 - f64::from(target)) * total as f64).round() as usize;
            assert_eq!(matrix.stored_blocks(), expected, "{block} at {target}");
            assert!((matrix.sparsity() - (1.0 - expected as f64 / total as f64)).abs() < 1e-12);
            if target == 0.0 {
                assert_eq!(matrix.to_dense(), dense);
            }
        }
        let empty = BsrMatrix::prune_by_magnitude(&dense, rows, cols, block, 1.0).unwrap();
        assert!(empty.col_idx.is_empty() && empty.values.element_count() == 0);
        assert!(empty.row_ptr.iter().all(|&offset| offset == 0));
        assert!(empty.to_dense().iter().all(|&value| value == 0.0));
        assert_eq!(empty.sparsity(), 1.0);
    }
}

#[test]
fn prune_keeps_the_largest_norm_blocks() {
    let (rows, cols, block) = (37, 45, BlockShape::B8x8);
    let dense = blocky_matrix(4, rows, cols, block, 0.2);
    let grid_cols = cols.div_ceil(8);
    let mut norms = vec![0.0f64; rows.div_ceil(8) * grid_cols];
    for (index, &value) in dense.iter().enumerate() {
        norms[index / cols / 8 * grid_cols + index % cols / 8] += f64::from(value).powi(2);
    }
    let matrix = BsrMatrix::prune_by_magnitude(&dense, rows, cols, block, 0.75).unwrap();
    let kept = stored_block_indices(&matrix);
    let smallest_kept = kept
        .iter()
        .map(|&index| norms[index])
        .fold(f64::INFINITY, f64::min);
    let dropped = (0..norms.len()).filter(|index| !kept.contains(index));
    assert!(dropped
        .map(|index| norms[index])
        .all(|norm| norm <= smallest_kept));
    let pruned = matrix.to_dense();
    for (index, (&value, &original)) in pruned.iter().zip(&dense).enumerate() {
        let block_index = index / cols / 8 * grid_cols + index % cols / 8;
        let expected = if kept.contains(&block_index) {
            original
        } else {
            0.0
        };
        assert_eq!(value, expected, "element {index}");
    }
    // Equal norms everywhere: the lower block indices win.
    let ties = BsrMatrix::prune_by_magnitude(&[1.0; 8 * 12], 8, 12, BlockShape::B4x4, 0.5).unwrap();
    assert_eq!(stored_block_indices(&ties), vec![0, 1, 2]);
}

#[test]
fn an_empty_block_row_beside_a_full_one() {
    let mut dense = vec![0.0f32; 8 * 16];
    dense[64..]
        .iter_mut()
        .enumerate()
        .for_each(|(index, value)| *value = index as f32 + 1.0);
    let matrix = BsrMatrix::from_dense_f32(&dense, 8, 16, BlockShape::B4x4).unwrap();
    assert_eq!(
        (matrix.row_ptr.clone(), matrix.col_idx.clone()),
        (vec![0, 0, 4], vec![0, 1, 2, 3])
    );
    assert_eq!(matrix.to_dense(), dense);
    dense.rotate_left(64);
    let matrix = BsrMatrix::from_dense_f32(&dense, 8, 16, BlockShape::B4x4).unwrap();
    assert_eq!(matrix.row_ptr, vec![0, 4, 4]);
    assert_eq!(matrix.to_dense(), dense);
}

#[test]
fn a_mask_selects_blocks_zero_or_not() {
    let dense = blocky_matrix(5, 8, 8, BlockShape::B4x4, 0.0);
    let keep = [true, false, false, true];
    let matrix = BsrMatrix::from_dense_with_mask(&dense, 8, 8, BlockShape::B4x4, &keep).unwrap();
    assert_eq!(
        (matrix.row_ptr.clone(), matrix.col_idx.clone()),
        (vec![0, 1, 2], vec![0, 1])
    );
    let zeros = BsrMatrix::from_dense_with_mask(&[0.0; 64], 8, 8, BlockShape::B4x4, &[true; 4]);
    assert_eq!(zeros.unwrap().stored_blocks(), 4);
    let short_mask = BsrMatrix::from_dense_with_mask(&dense, 8, 8, BlockShape::B4x4, &[true; 3]);
    assert!(matches!(short_mask, Err(Error::ShapeMismatch { .. })));
}

#[test]
fn quantize_i8_matches_symmetric_q8_weights() {
    let (rows, cols) = (37, 45);
    let mut dense = blocky_matrix(6, rows, cols, BlockShape::B1x32, 0.0);
    dense[cols..2 * cols].fill(0.0); // row 1 stores no blocks: scale 1.0
    let matrix = BsrMatrix::from_dense_f32(&dense, rows, cols, BlockShape::B1x32).unwrap();
    let quantized = matrix.quantize_i8().unwrap();
    quantized.validate().unwrap();
    let q8 = Q8Weights::quantize(&dense, rows, cols, Q8Scheme::Symmetric).unwrap();
    let BsrValues::I8 { scales, .. } = &quantized.values else {
        panic!("not int8")
    };
    assert_eq!((scales, scales[1]), (&q8.scales, 1.0));
    assert_eq!(quantized.to_dense(), q8.dequantize());
    for element in quantized.stored_elements() {
        let BsrValues::I8 { values, .. } = &quantized.values else {
            unreachable!()
        };
        let expected = quantize_i8(
            dense[element.row * cols + element.col],
            scales[element.row],
            0,
        );
        assert_eq!(values[element.index], expected);
    }
    assert_eq!(quantized.quantize_i8().unwrap(), quantized);
    let dequantized_f16: Vec<f32> = q8
        .dequantize()
        .iter()
        .map(|&v| f16::from_f32(v).to_f32())
        .collect();
    assert_eq!(quantized.to_f16().to_dense(), dequantized_f16);
    let infinite =
        BsrMatrix::from_dense_f32(&[1.0, f32::INFINITY], 1, 2, BlockShape::B4x4).unwrap();
    assert!(matches!(
        infinite.quantize_i8(),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn rejects_bad_dense_inputs() {
    let invalid = |result: Result<BsrMatrix>| matches!(result, Err(Error::InvalidArgument { .. }));
    for target in [-0.1, 1.1, f32::NAN, f32::INFINITY] {
        assert!(invalid(BsrMatrix::prune_by_magnitude(
            &[1.0; 4],
            2,
            2,
            BlockShape::B4x4,
            target
        )));
    }
    assert!(invalid(BsrMatrix::prune_by_magnitude(
        &[f32::NAN; 4],
        2,
        2,
        BlockShape::B4x4,
        0.5
    )));
    assert!(invalid(BsrMatrix::from_dense_f32(
        &[],
        0,
        3,
        BlockShape::B4x4
    )));
    let wrong_length = BsrMatrix::from_dense_f32(&[1.0; 5], 2, 3, BlockShape::B4x4);
    assert!(matches!(wrong_length, Err(Error::ShapeMismatch { .. })));
}

/// `result` is `Err` of the expected kind with `needle` in its message.
fn assert_error(result: Result<BsrMatrix>, shape_mismatch: bool, needle: &str) {
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
fn validate_rejects_hostile_parts() {
    // [8, 6] in 4x4 blocks: a 2 x 2 grid; blocks (0, 0), (0, 1) and (1, 1) are stored, the last
    // two with columns 6 and 7 (block columns 2 and 3) as zero padding.
    let mut values = vec![1.0f32; 3 * 16];
    for padding in [2, 3, 6, 7, 10, 11, 14, 15] {
        values[16 + padding] = 0.0;
        values[32 + padding] = 0.0;
    }
    let build = |row_ptr: &[u32], col_idx: &[u32], values: &BsrValues| {
        let (row_ptr, col_idx) = (row_ptr.to_vec(), col_idx.to_vec());
        BsrMatrix::from_parts(8, 6, BlockShape::B4x4, row_ptr, col_idx, values.clone())
    };
    let good = BsrValues::F32(values.clone());
    assert!(build(&[0, 2, 3], &[0, 1, 1], &good).is_ok());
    let cases: [(&[u32], &[u32], bool, &str); 7] = [
        (
            &[0, 3, 2],
            &[0, 1, 1],
            false,
            "row_ptr decreases at block row 1: 3 then 2",
        ),
        (&[1, 2, 3], &[0, 1, 1], false, "row_ptr must start at 0"),
        (
            &[0, 2, 2],
            &[0, 1, 1],
            true,
            "row_ptr ends at 2 but col_idx has 3",
        ),
        (&[0, 2], &[0, 1, 1], true, "row_ptr needs 3 entries, got 2"),
        (
            &[0, 2, 3],
            &[0, 2, 1],
            false,
            "block row 0 has block column 2",
        ),
        (
            &[0, 2, 3],
            &[1, 0, 1],
            false,
            "block row 0 are not strictly ascending",
        ),
        (
            &[0, 2, 3],
            &[0, 1, 1, 1],
            true,
            "row_ptr ends at 3 but col_idx has 4",
        ),
    ];
    for (row_ptr, col_idx, shape_mismatch, needle) in cases {
        assert_error(build(row_ptr, col_idx, &good), shape_mismatch, needle);
    }
    let repeated = build(&[0, 2, 3], &[1, 1, 1], &good);
    assert_error(repeated, false, "not strictly ascending");
    let short = BsrValues::F32(vec![0.0; 47]);
    assert_error(
        build(&[0, 2, 3], &[0, 1, 1], &short),
        true,
        "need 48 values, got 47",
    );
    values[16 + 2] = 0.5;
    let padded = BsrValues::F32(values);
    assert_error(
        build(&[0, 2, 3], &[0, 1, 1], &padded),
        false,
        "at (0, 6) lies outside",
    );
    let int8 = |scales: Vec<f32>| BsrValues::I8 {
        values: vec![0; 48],
        scales,
    };
    assert!(build(&[0, 2, 3], &[0, 1, 1], &int8(vec![0.5; 8])).is_ok());
    let few_scales = build(&[0, 2, 3], &[0, 1, 1], &int8(vec![0.5; 6]));
    assert_error(few_scales, true, "8 rows need 8 scales, got 6");
    for scale in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        let mut scales = vec![0.5; 8];
        scales[7] = scale;
        let bad_scale = build(&[0, 2, 3], &[0, 1, 1], &int8(scales));
        assert_error(bad_scale, false, "scale of row 7");
    }
    let empty = BsrValues::F32(Vec::new());
    let no_rows = BsrMatrix::from_parts(0, 6, BlockShape::B4x4, vec![0], vec![], empty);
    assert_error(no_rows, false, "must be non-zero");
    let mut matrix = build(&[0, 2, 3], &[0, 1, 1], &good).unwrap();
    matrix.block_cols_count = 3;
    assert_error(
        Err(matrix.validate().unwrap_err()),
        true,
        "2 x 2 grid, not 2 x 3",
    );
}

#[test]
fn bytes_and_layout_sizes() {
    let dense = blocky_matrix(8, 37, 45, BlockShape::B4x4, 0.5);
    let matrix = BsrMatrix::from_dense_f32(&dense, 37, 45, BlockShape::B4x4).unwrap();
    let (blocks, index_bytes) = (
        matrix.stored_blocks(),
        4 * (10 + 1 + matrix.stored_blocks()),
    );
    assert_eq!((matrix.block_rows_count, matrix.block_cols_count), (10, 12));
    assert_eq!(matrix.values_bytes().len(), blocks * 16 * 4);
    assert_eq!(matrix.bytes(), index_bytes + blocks * 64);
    assert_eq!(matrix.to_f16().bytes(), index_bytes + blocks * 32);
    assert_eq!(
        matrix.quantize_i8().unwrap().bytes(),
        index_bytes + blocks * 16 + 37 * 4
    );
}
