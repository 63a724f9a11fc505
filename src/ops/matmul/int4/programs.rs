//! The int4-weight shader programs, and which one runs: the tiled core with the int4 B loader
//! (`shaders/matmul_b_q4.wgsl`) beside the shared A loaders and C stores, and the GEMV
//! (`shaders/gemv_q4.wgsl`) with one operand file per activation dtype.

use crate::device::ShaderProgram;
use crate::ops::matmul::f16::{
    F16Path, A_F16_PACKED_WGSL, A_F16_WGSL, C_F16_PACKED_WGSL, C_F16_WGSL, ENABLE_F16_WGSL,
};
use crate::ops::matmul::f32::{A_F32_WGSL, C_F32_WGSL};
use crate::ops::matmul::gemv::{
    GEMV_IO_F16_PACKED_WGSL, GEMV_IO_F16_WGSL, GEMV_IO_F32_WGSL, GEMV_REDUCE_WGSL,
};
use crate::ops::matmul::tiled::{ACTIVATION_WGSL, EPILOGUE_WGSL, TILED_CORE_WGSL};

const Q4_WEIGHTS_WGSL: &str = include_str!("../../../../shaders/q4_weights.wgsl");
/// Decoding int4 scales and zero points, after a file that declares the weights' bindings.
pub(crate) const Q4_DECODE_WGSL: &str = include_str!("../../../../shaders/q4_decode.wgsl");
const B_Q4_WGSL: &str = include_str!("../../../../shaders/matmul_b_q4.wgsl");
const GEMV_Q4_WGSL: &str = include_str!("../../../../shaders/gemv_q4.wgsl");

/// f32 activations read as vec4 (needs K % 4 == 0), int4 weights, f32 output.
pub const MATMUL_Q4_F32_VEC4: ShaderProgram = ShaderProgram {
    name: "matmul_q4_f32_vec4",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        include_str!("../../../../shaders/matmul_a_f32_vec4.wgsl"),
        Q4_WEIGHTS_WGSL,
        Q4_DECODE_WGSL,
        B_Q4_WGSL,
        C_F32_WGSL,
    ],
    needs_f16: false,
};

/// f32 activations read one element at a time (any K), int4 weights, f32 output.
pub const MATMUL_Q4_F32_SCALAR: ShaderProgram = ShaderProgram {
    name: "matmul_q4_f32_scalar",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F32_WGSL,
        Q4_WEIGHTS_WGSL,
        Q4_DECODE_WGSL,
        B_Q4_WGSL,
        C_F32_WGSL,
    ],
    needs_f16: false,
};

/// f16 activations and output as WGSL `f16` (needs `SHADER_F16`), int4 weights.
pub const MATMUL_Q4_F16_NATIVE: ShaderProgram = ShaderProgram {
    name: "matmul_q4_f16_native",
    parts: &[
        ENABLE_F16_WGSL,
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F16_WGSL,
        Q4_WEIGHTS_WGSL,
        Q4_DECODE_WGSL,
        B_Q4_WGSL,
        C_F16_WGSL,
    ],
    needs_f16: true,
};

/// f16 activations and output packed two per `u32` (any device), int4 weights. The output must
/// start zeroed (`f16::new_f16_output`).
pub const MATMUL_Q4_F16_PACKED: ShaderProgram = ShaderProgram {
    name: "matmul_q4_f16_packed",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F16_PACKED_WGSL,
        Q4_WEIGHTS_WGSL,
        Q4_DECODE_WGSL,
        B_Q4_WGSL,
        C_F16_PACKED_WGSL,
    ],
    needs_f16: false,
};

/// GEMV for one f32 activation row, f32 output.
pub const GEMV_Q4_F32: ShaderProgram = ShaderProgram {
    name: "gemv_q4_f32",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        Q4_WEIGHTS_WGSL,
        Q4_DECODE_WGSL,
        GEMV_Q4_WGSL,
        GEMV_IO_F32_WGSL,
    ],
    needs_f16: false,
};

/// GEMV for one f16 activation row as WGSL `f16` (needs `SHADER_F16`), f16 output.
pub const GEMV_Q4_F16_NATIVE: ShaderProgram = ShaderProgram {
    name: "gemv_q4_f16_native",
    parts: &[
        ENABLE_F16_WGSL,
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        Q4_WEIGHTS_WGSL,
        Q4_DECODE_WGSL,
        GEMV_Q4_WGSL,
        GEMV_IO_F16_WGSL,
    ],
    needs_f16: true,
};

/// GEMV for one f16 activation row packed two per `u32` (any device), packed f16 output.
pub const GEMV_Q4_F16_PACKED: ShaderProgram = ShaderProgram {
    name: "gemv_q4_f16_packed",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        Q4_WEIGHTS_WGSL,
        Q4_DECODE_WGSL,
        GEMV_Q4_WGSL,
        GEMV_IO_F16_PACKED_WGSL,
    ],
    needs_f16: false,
};

/// The shader programs of this kernel family.
pub const PROGRAMS: &[&ShaderProgram] = &[
    &MATMUL_Q4_F32_VEC4,
    &MATMUL_Q4_F32_SCALAR,
    &MATMUL_Q4_F16_NATIVE,
    &MATMUL_Q4_F16_PACKED,
    &GEMV_Q4_F32,
    &GEMV_Q4_F16_NATIVE,
    &GEMV_Q4_F16_PACKED,
];

/// The tiled program for reduction length `k` and f16 path (`None` for f32 activations): f32
/// activations are read as vec4 when `k % 4 == 0`.
pub(super) fn tiled_program(k: usize, f16_path: Option<F16Path>) -> &'static ShaderProgram {
    match f16_path {
        None if k.is_multiple_of(4) => &MATMUL_Q4_F32_VEC4,
        None => &MATMUL_Q4_F32_SCALAR,
        Some(F16Path::Native) => &MATMUL_Q4_F16_NATIVE,
        Some(F16Path::Packed) => &MATMUL_Q4_F16_PACKED,
    }
}

/// The GEMV program for an f16 path (`None` for f32 activations).
pub(super) fn gemv_program(f16_path: Option<F16Path>) -> &'static ShaderProgram {
    match f16_path {
        None => &GEMV_Q4_F32,
        Some(F16Path::Native) => &GEMV_Q4_F16_NATIVE,
        Some(F16Path::Packed) => &GEMV_Q4_F16_PACKED,
    }
}
