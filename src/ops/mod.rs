//! Operations, one family per module: each holds the CPU reference (the specification) beside the
//! GPU launcher that must match it.

mod activation;
pub mod conv;
pub mod convert;
pub mod elementwise;
pub mod gemm;
pub mod grid;
pub mod indexing;
pub mod layout;
pub mod matmul;
pub mod normalization;
pub mod pooling;
pub mod quantize;
pub mod quantized_elementwise;
pub mod reduce;
pub mod resize;
pub mod softmax;
pub mod sparse;

pub use activation::{erf, Activation, PointwiseActivation};

use crate::device::ShaderProgram;

/// Every shader program of the op families (the benchmark and vision modules add their own:
/// the crate's shader tests validate them all).
pub fn all_programs() -> Vec<&'static ShaderProgram> {
    let mut programs = matmul::programs();
    for family in [
        conv::PROGRAMS,
        convert::PROGRAMS,
        elementwise::PROGRAMS,
        gemm::PROGRAMS,
        indexing::PROGRAMS,
        layout::PROGRAMS,
        normalization::PROGRAMS,
        pooling::PROGRAMS,
        quantize::PROGRAMS,
        quantized_elementwise::PROGRAMS,
        reduce::PROGRAMS,
        resize::PROGRAMS,
        softmax::PROGRAMS,
        sparse::nm::PROGRAMS,
        sparse::bsr::PROGRAMS,
    ] {
        programs.extend_from_slice(family);
    }
    programs
}
