//! Tests of the sparse references against the dense reference and a brute-force integer product.

use super::*;
use crate::check::SeededRng;
use crate::tensor::bsr::BlockShape;
use crate::tensor::nm_sparse::NmPattern;
use crate::tensor::quant::quantize_i8;
use crate::tensor::Q8Scheme;

/// Asserts that two references agree to `relative` times each element's magnitude.
fn assert_references_agree(got: &MatmulReference, want: &MatmulReference, relative: f64) {
    assert_eq!(got.dims, want.dims);
    assert_eq!(got.activation, want.activation);
    let pairs = got.pre_activation.iter().zip(&want.pre_activation);
    for (index, ((&got_pre, &want_pre), &magnitude)) in pairs.zip(&want.magnitude).enumerate() {
        let tolerance = relative * magnitude;
        assert!(
            (got_pre - want_pre).abs() <= tolerance,
            "pre-activation {index}"
        );
        assert!(
            (got.magnitude[index] - magnitude).abs() <= tolerance,
            "magnitude {index}"
        );
        let output_error = (got.output[index] - want.output[index]).abs();
        // Every activation in Activation::ALL is Lipschitz with a constant below 2.
        assert!(output_error <= 2.0 * tolerance, "output {index}");
    }
}

/// A pruned `[rows, cols]` BSR matrix at `sparsity`, with uniform weights in `[-1, 1)`.
fn pruned_bsr(
    rng: &mut SeededRng,
    rows: usize,
    cols: usize,
    block: BlockShape,
    sparsity: f32,
) -> BsrMatrix {
    let dense = rng.uniform_vec(rows * cols, -1.0, 1.0);
    BsrMatrix::prune_by_magnitude(&dense, rows, cols, block, sparsity).unwrap()
}

#[test]
fn bsr_reference_matches_the_dense_reference() {
    let mut rng = SeededRng::new(21);
    let activations = Activation::ALL.iter().cycle();
    let cases = BlockShape::ALL.iter().flat_map(|&block| {
        [(37, 45, 0.5), (64, 32, 0.9), (33, 7, 0.0), (5, 70, 1.0)].map(move |case| (block, case))
    });
    for ((block, (rows, cols, sparsity)), &activation) in cases.zip(activations) {
        let weights = pruned_bsr(&mut rng, rows, cols, block, sparsity);
        let batch_rows = 3;
        let x = rng.uniform_vec(batch_rows * cols, -2.0, 2.0);
        let bias = rng.uniform_vec(rows, -1.0, 1.0);
        for (weights, bias) in [(weights.clone(), Some(&bias[..])), (weights.to_f16(), None)] {
            let got = reference_bsr_matmul(&x, batch_rows, &weights, bias, activation);
            let dims = sparse_dims(batch_rows, rows, cols);
            let want = reference_matmul(&x, &weights.to_dense(), &dims, bias, activation);
            assert_references_agree(&got, &want, 1e-12);
            assert_eq!(
                (got.dims.m, got.dims.n, got.dims.k),
                (batch_rows, rows, cols)
            );
        }
    }
}

#[test]
fn bsr_reference_uses_exact_dequantized_int8_weights() {
    let mut rng = SeededRng::new(22);
    let (rows, cols, batch_rows) = (37, 45, 4);
    let pruned = pruned_bsr(&mut rng, rows, cols, BlockShape::B4x4, 0.5);
    let weights = pruned.quantize_i8().unwrap();
    let BsrValues::I8 { scales, .. } = &weights.values else {
        panic!("not int8")
    };
    let x = rng.uniform_vec(batch_rows * cols, -2.0, 2.0);
    let bias = rng.uniform_vec(rows, -1.0, 1.0);
    let got = reference_bsr_matmul(&x, batch_rows, &weights, Some(&bias), Activation::Identity);
    let dense_q = dense_int8(&pruned, scales);
    for row in 0..batch_rows {
        for n in 0..rows {
            let exact_weight = |k: usize| f64::from(dense_q[n * cols + k]) * f64::from(scales[n]);
            let products = (0..cols).map(|k| f64::from(x[row * cols + k]) * exact_weight(k));
            let want: f64 = f64::from(bias[n]) + products.sum::<f64>();
            let index = row * rows + n;
            assert!((got.pre_activation[index] - want).abs() <= 1e-12 * got.magnitude[index]);
        }
    }
    // The dense expansion rounds each q · scale to f32: one unit roundoff per term.
    let dims = sparse_dims(batch_rows, rows, cols);
    let dense = reference_matmul(
        &x,
        &weights.to_dense(),
        &dims,
        Some(&bias),
        Activation::Identity,
    );
    assert_references_agree(&got, &dense, 1e-12 + 2f64.powi(-24));
}

/// The int8 weights a pruned f32 matrix quantizes to with the given per-row scales, as a dense
/// `[rows, cols]` array (pruned elements 0), computed without the BSR int8 values.
fn dense_int8(pruned: &BsrMatrix, scales: &[f32]) -> Vec<i8> {
    let cols = pruned.cols;
    let quantize = |(index, &value): (usize, &f32)| quantize_i8(value, scales[index / cols], 0);
    pruned.to_dense().iter().enumerate().map(quantize).collect()
}

#[test]
fn int8_reference_equals_a_brute_force_integer_product() {
    let mut rng = SeededRng::new(23);
    for block in BlockShape::ALL {
        let (rows, cols, batch_rows) = (37, 45, 5);
        let pruned = pruned_bsr(&mut rng, rows, cols, block, 0.6);
        let weights = pruned.quantize_i8().unwrap();
        let BsrValues::I8 { scales, .. } = &weights.values else {
            panic!("not int8")
        };
        let x = rng.uniform_vec(batch_rows * cols, -3.0, 5.0);
        let x_q = Q8Activations::calibrate(&x, batch_rows, cols, Q8Scheme::Asymmetric).unwrap();
        assert_ne!(x_q.zero_point, 0);
        let dense_q = dense_int8(&pruned, scales);
        let got = reference_bsr_matmul_i8(&x_q, &weights).unwrap();
        for (index, &accumulator) in got.iter().enumerate() {
            let (row, n) = (index / rows, index % rows);
            let centered = |k: usize| i64::from(x_q.value(row, k)) - i64::from(x_q.zero_point);
            let want: i64 = (0..cols)
                .map(|k| centered(k) * i64::from(dense_q[n * cols + k]))
                .sum();
            assert_eq!(i64::from(accumulator), want, "{block} element {index}");
        }
    }
}

#[test]
fn int8_reference_rejects_bad_operands() {
    let cols = 70_000; // 70 000 · 255 · 127 > 2³¹: the accumulator overflows i32
    let weights = BsrMatrix::from_dense_f32(&vec![1.0; cols], 1, cols, BlockShape::B1x32).unwrap();
    let weights_q = weights.quantize_i8().unwrap();
    let x_q = Q8Activations::from_parts(1, cols, &vec![-128; cols], 1.0, 127).unwrap();
    let overflow = reference_bsr_matmul_i8(&x_q, &weights_q);
    assert!(matches!(overflow, Err(Error::InvalidArgument { .. })));
    let not_int8 = reference_bsr_matmul_i8(&x_q, &weights);
    assert!(matches!(
        not_int8,
        Err(Error::DTypeMismatch {
            got: DType::F32,
            ..
        })
    ));
    let short_x = Q8Activations::from_parts(1, 3, &[0; 3], 1.0, 0).unwrap();
    let mismatch = reference_bsr_matmul_i8(&short_x, &weights_q);
    assert!(matches!(mismatch, Err(Error::ShapeMismatch { .. })));
}

#[test]
fn nm_reference_matches_bsr_and_dense_on_the_same_weights() {
    let mut rng = SeededRng::new(24);
    let (rows, cols, batch_rows) = (37, 45, 3);
    let dense = rng.uniform_vec(rows * cols, -1.0, 1.0);
    let x = rng.uniform_vec(batch_rows * cols, -2.0, 2.0);
    let bias = rng.uniform_vec(rows, -1.0, 1.0);
    for (pattern, &activation) in NmPattern::ALL.iter().zip(&Activation::ALL) {
        let weights = NmSparseMatrix::prune_by_magnitude(&dense, rows, cols, *pattern).unwrap();
        let got = reference_nm_matmul(&x, batch_rows, &weights, Some(&bias), activation);
        let pruned = weights.to_dense();
        let dims = sparse_dims(batch_rows, rows, cols);
        let want = reference_matmul(&x, &pruned, &dims, Some(&bias), activation);
        assert_references_agree(&got, &want, 0.0);
        let as_bsr = BsrMatrix::from_dense_f32(&pruned, rows, cols, BlockShape::B4x4).unwrap();
        let via_bsr = reference_bsr_matmul(&x, batch_rows, &as_bsr, Some(&bias), activation);
        assert_references_agree(&via_bsr, &got, 1e-12);
    }
}
