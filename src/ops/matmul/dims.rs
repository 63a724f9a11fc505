//! Matmul shapes: what `A · B` means for kiln's matmul kernels, checked once for every dtype.

use crate::error::{Error, Result};

/// How to multiply: whether B is stored transposed, and the fused epilogue.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MatmulOptions {
    /// B is stored as `[N, K]` (or `[batch, N, K]`), as in a Linear layer's weight.
    pub b_transposed: bool,
    /// Activation applied after the bias.
    pub activation: crate::ops::Activation,
}

/// The dimensions of `C[b] = A[b] · B[b]`: A is `[batch, M, K]` (or `[M, K]`), B is `[K, N]`
/// (`[N, K]` when transposed), optionally with its own leading batch dimension; without one, every
/// batch shares B.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulDims {
    /// Number of independent products.
    pub batch: usize,
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// The reduction length.
    pub k: usize,
    /// B has a batch dimension (otherwise one B serves every batch).
    pub b_batched: bool,
    /// B is stored `[N, K]`.
    pub b_transposed: bool,
}

impl MatmulDims {
    /// Checks that `a_shape` and `b_shape` multiply and returns the dimensions.
    pub fn infer(
        op: &'static str,
        a_shape: &[usize],
        b_shape: &[usize],
        b_transposed: bool,
    ) -> Result<Self> {
        let mismatch = |detail: String| Error::ShapeMismatch { op, detail };
        let (batch, m, k) = match *a_shape {
            [m, k] => (1, m, k),
            [batch, m, k] => (batch, m, k),
            _ => {
                return Err(mismatch(format!(
                    "A must be [M, K] or [batch, M, K], got {a_shape:?}"
                )))
            }
        };
        let (b_batch, b_rows, b_cols) = match *b_shape {
            [rows, cols] => (None, rows, cols),
            [batch, rows, cols] => (Some(batch), rows, cols),
            _ => return Err(mismatch(format!("B must be rank 2 or 3, got {b_shape:?}"))),
        };
        let (b_k, n) = if b_transposed {
            (b_cols, b_rows)
        } else {
            (b_rows, b_cols)
        };
        if b_k != k {
            return Err(mismatch(format!(
                "A {a_shape:?} has K = {k} but B {b_shape:?}{} has K = {b_k}",
                if b_transposed { " (transposed)" } else { "" }
            )));
        }
        if let Some(b_batch) = b_batch {
            if b_batch != batch {
                return Err(mismatch(format!(
                    "A has batch {batch} but B has batch {b_batch}; B's batch must match or be absent"
                )));
            }
        }
        Ok(MatmulDims {
            batch,
            m,
            n,
            k,
            b_batched: b_batch.is_some(),
            b_transposed,
        })
    }

    /// The output shape: `[M, N]` for a rank-2 A, else `[batch, M, N]`.
    pub fn output_shape(&self, a_rank: usize) -> Vec<usize> {
        if a_rank == 2 {
            vec![self.m, self.n]
        } else {
            vec![self.batch, self.m, self.n]
        }
    }

    /// Floating-point operations of the product (two per multiply-add).
    pub fn flops(&self) -> f64 {
        2.0 * self.batch as f64 * self.m as f64 * self.n as f64 * self.k as f64
    }

    /// Index of B's element at (batch, k, n) in its stored layout.
    pub fn b_index(&self, batch: usize, k: usize, n: usize) -> usize {
        let base = if self.b_batched {
            batch * self.k * self.n
        } else {
            0
        };
        if self.b_transposed {
            base + n * self.k + k
        } else {
            base + k * self.n + n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_batched_and_transposed_shapes() {
        let dims = MatmulDims::infer("t", &[3, 5, 7], &[11, 7], true).unwrap();
        assert_eq!((dims.batch, dims.m, dims.n, dims.k), (3, 5, 11, 7));
        assert!(!dims.b_batched);
        assert_eq!(dims.output_shape(3), vec![3, 5, 11]);
        let dims = MatmulDims::infer("t", &[2, 4], &[4, 9], false).unwrap();
        assert_eq!(dims.output_shape(2), vec![2, 9]);
    }

    #[test]
    fn rejects_mismatches() {
        assert!(matches!(
            MatmulDims::infer("t", &[5, 7], &[8, 3], false),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(MatmulDims::infer("t", &[2, 5, 7], &[3, 7, 4], false).is_err());
        assert!(MatmulDims::infer("t", &[7], &[7, 4], false).is_err());
        assert!(MatmulDims::infer("t", &[1, 2, 5, 7], &[7, 4], false).is_err());
    }
}
