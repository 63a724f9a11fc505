//! Dtype conversion and logic on the GPU: Cast between f32, f16, i32, i8, u8 and bool, Not, and
//! the comparisons (Equal, Less, LessOrEqual, Greater, GreaterOrEqual) with numpy broadcasting.
//! Booleans live on the GPU as u8 holding 0 or 1; no kernel here takes i64.
//!
//! The references here are the specification, and the CPU backend runs them: numpy's `astype` for Cast (floats truncate toward zero and saturate, NaN gives 0,
//! integers wrap, non-zero is true); comparisons of any dtype, NaN unequal and unordered. Two kernels: `shaders/convert_cast.wgsl` (Cast and Not,
//! chosen by override constants) and `shaders/convert_compare.wgsl`.

mod cast;
mod compare;

pub use cast::{cast, not, reference_cast, reference_not, GPU_CAST_DTYPES};
pub use compare::{compare, reference_compare, CompareOp, GPU_COMPARE_DTYPES};

use crate::device::ShaderProgram;
use crate::ops::elementwise::FLOAT_BITS_WGSL;

/// Cast and Not: one input, one output, one thread per output word.
pub const CONVERT_CAST: ShaderProgram = ShaderProgram {
    name: "convert_cast",
    parts: &[
        FLOAT_BITS_WGSL,
        include_str!("../../../shaders/convert_cast.wgsl"),
    ],
    needs_f16: false,
};

/// The comparisons, with the element-wise kernels' broadcast indexing.
pub const CONVERT_COMPARE: ShaderProgram = ShaderProgram {
    name: "convert_compare",
    parts: &[
        FLOAT_BITS_WGSL,
        include_str!("../../../shaders/elementwise_index.wgsl"),
        include_str!("../../../shaders/convert_compare.wgsl"),
    ],
    needs_f16: false,
};

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] = &[&CONVERT_CAST, &CONVERT_COMPARE];
