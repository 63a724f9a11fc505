//! Typed weights: an initializer stored in a compressed layout (Q8, Q4, BSR or N:M) instead of as a
//! dense [`HostTensor`].
//!
//! A packed weight is always a matrix `W` of `[N, K]` (`N` output features, `K` the reduction),
//! the layout every weight kernel in [`crate::ops`] reads, together with the logical ONNX tensor it
//! stands for: a MatMul's `B` of `[K, N]` is `Wᵀ` ([`PackedWeight::transposed`]); a Gemm's `B`
//! with `transB = 1` (`[N, K]`) and a Conv weight `[N, C/group, kh, kw]` are `W` itself, reshaped.
//! [`PackedWeight::to_dense`] gives that logical tensor back, exactly as the layout's dequantization
//! defines it, so the CPU reference backend and every conversion agree on what a packed weight
//! means.
//!
//! Dense initializers stay in [`crate::graph::Graph::initializers`], packed ones live in
//! [`crate::graph::Graph::packed_weights`]; a value is in at most one of them
//! ([`crate::graph::Graph::validate`]). Keeping the dense map's type means shape arithmetic,
//! constant folding and every pass that reads constants cannot be handed a compressed weight by
//! mistake: only the ops that take one (MatMul / Gemm `B`, Conv `W`) look in the packed map.

use crate::error::{Error, Result};
use crate::tensor::bsr::BsrMatrix;
use crate::tensor::nm_sparse::NmSparseMatrix;
use crate::tensor::{HostTensor, Q4Weights, Q8Weights};

/// The compressed layouts a weight matrix `W` of `[N, K]` can be stored in.
#[derive(Clone, Debug, PartialEq)]
pub enum PackedMatrix {
    /// Int8 with one scale and zero point per output row (a per-tensor quantization repeats them).
    Q8 {
        /// The int8 values, scales and zero points.
        weights: Q8Weights,
        /// The source model stored uint8: each value and zero point here is the uint8 one minus
        /// 128 (exact, since only their difference is ever used), and export adds 128 back.
        unsigned: bool,
    },
    /// Int4 in groups along `K` with f16 scales and 4-bit zero points.
    Q4(Q4Weights),
    /// Block-sparse rows.
    Bsr(BsrMatrix),
    /// N:M structured sparsity along `K`.
    NmSparse(NmSparseMatrix),
}

impl PackedMatrix {
    /// `(N, K)`.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            PackedMatrix::Q8 { weights, .. } => (weights.rows, weights.cols),
            PackedMatrix::Q4(weights) => (weights.rows, weights.cols),
            PackedMatrix::Bsr(matrix) => (matrix.rows, matrix.cols),
            PackedMatrix::NmSparse(matrix) => (matrix.rows, matrix.cols),
        }
    }

    /// A short name of the layout: `q8`, `q4`, `bsr` or `nm`.
    pub fn layout_name(&self) -> &'static str {
        match self {
            PackedMatrix::Q8 { .. } => "q8",
            PackedMatrix::Q4(_) => "q4",
            PackedMatrix::Bsr(_) => "bsr",
            PackedMatrix::NmSparse(_) => "nm",
        }
    }

    /// `W` as row-major `[N, K]` f32 values, by the layout's own dequantization.
    pub fn to_dense_rows(&self) -> Vec<f32> {
        match self {
            PackedMatrix::Q8 { weights, .. } => weights.dequantize(),
            PackedMatrix::Q4(weights) => weights.dequantize(),
            PackedMatrix::Bsr(matrix) => matrix.to_dense(),
            PackedMatrix::NmSparse(matrix) => matrix.to_dense(),
        }
    }
}

/// A packed initializer: the matrix and the logical tensor it stands for.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedWeight {
    /// `W`, `[N, K]`.
    pub matrix: PackedMatrix,
    /// The logical ONNX shape of the initializer (`[K, N]` for a MatMul `B`, `[N, C, kh, kw]` for a
    /// Conv weight, ...); its element count is `N · K`.
    pub shape: Vec<usize>,
    /// The logical tensor is `Wᵀ` (a MatMul `B`, a Gemm `B` with `transB = 0`), reshaped to `shape`;
    /// otherwise it is `W` reshaped.
    pub transposed: bool,
}

impl PackedWeight {
    /// Checks that `shape` holds exactly `N · K` elements and, when `transposed`, is 2-D `[K, N]`.
    pub fn new(matrix: PackedMatrix, shape: Vec<usize>, transposed: bool) -> Result<Self> {
        let (rows, cols) = matrix.dims();
        let elements = shape
            .iter()
            .try_fold(1usize, |acc, &dim| acc.checked_mul(dim));
        let fits = if transposed {
            shape == [cols, rows]
        } else {
            elements == rows.checked_mul(cols)
        };
        if !fits {
            return Err(Error::ShapeMismatch {
                op: "PackedWeight::new",
                detail: format!(
                    "a {} matrix of [{rows}, {cols}] cannot stand for a tensor of {shape:?}{}",
                    matrix.layout_name(),
                    if transposed {
                        " (as its transpose)"
                    } else {
                        ""
                    }
                ),
            });
        }
        Ok(PackedWeight {
            matrix,
            shape,
            transposed,
        })
    }

    /// The logical f32 tensor: `W` (or `Wᵀ`) dequantized and reshaped to [`PackedWeight::shape`].
    pub fn to_dense(&self) -> Result<HostTensor> {
        let (rows, cols) = self.matrix.dims();
        let rows_major = self.matrix.to_dense_rows();
        let values = if self.transposed {
            let mut transposed = vec![0.0f32; rows_major.len()];
            for (row, row_values) in rows_major.chunks_exact(cols.max(1)).enumerate() {
                for (col, &value) in row_values.iter().enumerate() {
                    transposed[col * rows + row] = value;
                }
            }
            transposed
        } else {
            rows_major
        };
        HostTensor::from_f32(&self.shape, values)
    }
}
