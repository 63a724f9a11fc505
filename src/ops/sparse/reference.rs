//! The CPU references for the sparse matmuls: `Y = act(X · Wᵀ + bias)` with `X` row-major
//! `[M, K]` (every batch flattened into `M`) and `W` sparse `[N, K]`, so `Y` is `[M, N]`.
//!
//! The BSR reference visits only the stored blocks, in f64, and keeps each output's `Σ|x·w| +
//! |bias|` so [`MatmulReference::tolerances`] applies unchanged: skipping zero weights drops only
//! zero terms, so it agrees with the dense reference on the expanded matrix. The int8 reference
//! gives the exact integer accumulators an int8 kernel must produce. The N:M reference expands
//! to dense, the simplest statement of what it means.

use crate::error::{Error, Result};
use crate::ops::matmul::{reference_matmul, MatmulDims, MatmulReference};
use crate::ops::Activation;
use crate::tensor::bsr::{BsrMatrix, BsrValues};
use crate::tensor::nm_sparse::NmSparseMatrix;
use crate::tensor::{DType, Q8Activations};

/// The dimensions of `X · Wᵀ` for `batch_rows` rows of `X` and a `[n, k]` weight.
fn sparse_dims(batch_rows: usize, n: usize, k: usize) -> MatmulDims {
    MatmulDims {
        batch: 1,
        m: batch_rows,
        n,
        k,
        b_batched: false,
        b_transposed: true,
    }
}

/// Asserts that `x` holds `batch_rows × k` values and `bias`, if any, `n`.
fn assert_operands(x: &[f32], batch_rows: usize, n: usize, k: usize, bias: Option<&[f32]>) {
    assert_eq!(x.len(), batch_rows * k, "x must be [{batch_rows}, {k}]");
    if let Some(bias) = bias {
        assert_eq!(bias.len(), n, "bias must have {n} values, one per row of W");
    }
}

/// Computes `act(X · Wᵀ + bias)` in f64 by a loop over the stored blocks of `w` only: per output,
/// the bias and then the products in ascending `k`, the order [`reference_matmul`] uses. Int8
/// weights enter as their exact dequantized values `q · scale` (see
/// [`BsrValues::value_f64`]).
///
/// # Panics
/// If `x` does not hold `batch_rows × w.cols` values, `bias` does not hold `w.rows`, or `w` fails
/// [`BsrMatrix::validate`]'s index checks.
pub fn reference_bsr_matmul(
    x: &[f32],
    batch_rows: usize,
    w: &BsrMatrix,
    bias: Option<&[f32]>,
    activation: Activation,
) -> MatmulReference {
    let (n, k) = (w.rows, w.cols);
    assert_operands(x, batch_rows, n, k, bias);
    let bias_value = |col: usize| bias.map_or(0.0, |bias| f64::from(bias[col]));
    let mut sums: Vec<f64> = (0..batch_rows * n)
        .map(|index| bias_value(index % n))
        .collect();
    let mut magnitudes: Vec<f64> = sums.iter().map(|sum| sum.abs()).collect();
    let output_rows = sums.chunks_exact_mut(n).zip(magnitudes.chunks_exact_mut(n));
    for (x_row, (row_sums, row_magnitudes)) in x.chunks_exact(k).zip(output_rows) {
        for element in w.stored_elements() {
            let weight = w.values.value_f64(element.index, element.row);
            let product = f64::from(x_row[element.col]) * weight;
            row_sums[element.row] += product;
            row_magnitudes[element.row] += product.abs();
        }
    }
    MatmulReference {
        output: sums.iter().map(|&sum| activation.reference(sum)).collect(),
        pre_activation: sums,
        magnitude: magnitudes,
        dims: sparse_dims(batch_rows, n, k),
        activation,
    }
}

/// The exact int32 accumulators of an int8 BSR kernel, row-major `[x_q.rows, w.rows]`:
/// `Σ (x − x_zero_point) · w_q` over the stored blocks, with `w` symmetric (zero point 0). Scales
/// and bias are left to the epilogue. Sums are formed in i64.
///
/// Errors: [`Error::DTypeMismatch`] if `w` is not int8, [`Error::ShapeMismatch`] if `x_q` has
/// not `w.cols` columns, [`Error::InvalidArgument`] if an accumulator does not fit i32.
pub fn reference_bsr_matmul_i8(x_q: &Q8Activations, w: &BsrMatrix) -> Result<Vec<i32>> {
    let op = "reference_bsr_matmul_i8";
    let BsrValues::I8 { values, .. } = &w.values else {
        let got = w.values.dtype();
        return Err(Error::DTypeMismatch {
            op,
            expected: DType::I8,
            got,
        });
    };
    if x_q.cols != w.cols {
        let (x_cols, w_cols) = (x_q.cols, w.cols);
        let detail = format!("x has K = {x_cols} but W has K = {w_cols}");
        return Err(Error::ShapeMismatch { op, detail });
    }
    let n = w.rows;
    let mut sums = vec![0i64; x_q.rows * n];
    for (x_row, row_sums) in sums.chunks_exact_mut(n).enumerate() {
        for element in w.stored_elements() {
            let x_centered = i64::from(x_q.value(x_row, element.col)) - i64::from(x_q.zero_point);
            row_sums[element.row] += x_centered * i64::from(values[element.index]);
        }
    }
    let to_i32 = |(index, &sum): (usize, &i64)| {
        i32::try_from(sum).map_err(|_| Error::InvalidArgument {
            op,
            detail: format!(
                "accumulator ({}, {}) is {sum}, outside i32; split K or lower the magnitudes",
                index / n,
                index % n
            ),
        })
    };
    sums.iter().enumerate().map(to_i32).collect()
}

/// Computes `act(X · Wᵀ + bias)` in f64 by expanding `w` to dense
/// ([`NmSparseMatrix::to_dense`]) and calling [`reference_matmul`] with `W` transposed.
///
/// # Panics
/// If `x` does not hold `batch_rows × w.cols` values, or `bias` does not hold `w.rows`.
pub fn reference_nm_matmul(
    x: &[f32],
    batch_rows: usize,
    w: &NmSparseMatrix,
    bias: Option<&[f32]>,
    activation: Activation,
) -> MatmulReference {
    let (n, k) = (w.rows, w.cols);
    assert_operands(x, batch_rows, n, k, bias);
    let dims = sparse_dims(batch_rows, n, k);
    reference_matmul(x, &w.to_dense(), &dims, bias, activation)
}

#[cfg(test)]
mod tests;
