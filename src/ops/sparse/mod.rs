//! The sparse matmul family: `Y = act(X · Wᵀ + bias)` with `W` stored block-sparse
//! ([`crate::tensor::bsr::BsrMatrix`]) or N:M-sparse ([`crate::tensor::nm_sparse::NmSparseMatrix`]).
//! The CPU references, which define what the GPU kernels must compute, are in [`mod@reference`].

pub mod bsr;
pub mod nm;
pub mod reference;

pub use reference::{reference_bsr_matmul, reference_bsr_matmul_i8, reference_nm_matmul};
