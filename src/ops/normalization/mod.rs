//! Normalization ops: BatchNormalization (inference mode, and its folding into a convolution),
//! LayerNormalization and LocalResponseNormalization (LRN), each an f32 GPU kernel beside its f64
//! CPU reference.

mod batchnorm;
mod layernorm;
mod lrn;

pub use batchnorm::{
    batch_normalization, fold_batchnorm_into_conv, reference_batchnorm, BatchNormParams,
    BatchNormReference, BATCHNORM_F32,
};
pub use layernorm::{
    layer_normalization, reference_layernorm, LayerNormOptions, LayerNormReference, LAYERNORM_F32,
    LAYERNORM_WORKGROUP,
};
pub use lrn::{lrn, reference_lrn, LrnAttrs, LRN_F32};

use crate::device::ShaderProgram;

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] = &[&BATCHNORM_F32, &LAYERNORM_F32, &LRN_F32];
