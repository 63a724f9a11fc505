//! The weight-only int8 shader programs, and which one runs: the tiled core with the int8 B loader
//! (`shaders/matmul_b_q8w.wgsl`) beside the shared A loaders and C stores, and the dense GEMV
//! (`shaders/gemv_dense.wgsl`) with an int8 weight file (`shaders/gemv_w_q8.wgsl`). Both read
//! the weights through `shaders/q8_weights.wgsl` (bindings) and `shaders/q8_decode.wgsl`.

use crate::device::ShaderProgram;
use crate::ops::matmul::f16::{
    F16Path, A_F16_PACKED_WGSL, A_F16_WGSL, C_F16_PACKED_WGSL, C_F16_WGSL, ENABLE_F16_WGSL,
};
use crate::ops::matmul::f32::{A_F32_WGSL, C_F32_WGSL};
use crate::ops::matmul::gemv::{
    GEMV_IO_F16_PACKED_WGSL, GEMV_IO_F16_WGSL, GEMV_IO_F32_WGSL, GEMV_REDUCE_WGSL,
};
use crate::ops::matmul::tiled::{ACTIVATION_WGSL, EPILOGUE_WGSL, TILED_CORE_WGSL};

const Q8_WEIGHTS_WGSL: &str = include_str!("../../../../shaders/q8_weights.wgsl");
/// Dequantizing int8 weight rows (`q8_load4`), after a file that declares their bindings.
pub(crate) const Q8_DECODE_WGSL: &str = include_str!("../../../../shaders/q8_decode.wgsl");
const B_Q8W_WGSL: &str = include_str!("../../../../shaders/matmul_b_q8w.wgsl");
const GEMV_DENSE_WGSL: &str = include_str!("../../../../shaders/gemv_dense.wgsl");
const GEMV_W_Q8_WGSL: &str = include_str!("../../../../shaders/gemv_w_q8.wgsl");

/// f32 activations read as vec4 (needs K % 4 == 0), int8 weights, f32 output.
pub const MATMUL_W8_F32_VEC4: ShaderProgram = ShaderProgram {
    name: "matmul_w8_f32_vec4",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        include_str!("../../../../shaders/matmul_a_f32_vec4.wgsl"),
        Q8_WEIGHTS_WGSL,
        Q8_DECODE_WGSL,
        B_Q8W_WGSL,
        C_F32_WGSL,
    ],
    needs_f16: false,
};

/// f32 activations read one element at a time (any K), int8 weights, f32 output.
pub const MATMUL_W8_F32_SCALAR: ShaderProgram = ShaderProgram {
    name: "matmul_w8_f32_scalar",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F32_WGSL,
        Q8_WEIGHTS_WGSL,
        Q8_DECODE_WGSL,
        B_Q8W_WGSL,
        C_F32_WGSL,
    ],
    needs_f16: false,
};

/// f16 activations and output as WGSL `f16` (needs `SHADER_F16`), int8 weights.
pub const MATMUL_W8_F16_NATIVE: ShaderProgram = ShaderProgram {
    name: "matmul_w8_f16_native",
    parts: &[
        ENABLE_F16_WGSL,
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F16_WGSL,
        Q8_WEIGHTS_WGSL,
        Q8_DECODE_WGSL,
        B_Q8W_WGSL,
        C_F16_WGSL,
    ],
    needs_f16: true,
};

/// f16 activations and output packed two per `u32` (any device), int8 weights. The output must
/// start zeroed (`f16::new_f16_output`).
pub const MATMUL_W8_F16_PACKED: ShaderProgram = ShaderProgram {
    name: "matmul_w8_f16_packed",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F16_PACKED_WGSL,
        Q8_WEIGHTS_WGSL,
        Q8_DECODE_WGSL,
        B_Q8W_WGSL,
        C_F16_PACKED_WGSL,
    ],
    needs_f16: false,
};

/// GEMV for one f32 activation row, int8 weights, f32 output.
pub const GEMV_W8_F32: ShaderProgram = ShaderProgram {
    name: "gemv_w8_f32",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        GEMV_DENSE_WGSL,
        Q8_WEIGHTS_WGSL,
        Q8_DECODE_WGSL,
        GEMV_W_Q8_WGSL,
        GEMV_IO_F32_WGSL,
    ],
    needs_f16: false,
};

/// GEMV for one f16 activation row as WGSL `f16` (needs `SHADER_F16`), int8 weights.
pub const GEMV_W8_F16_NATIVE: ShaderProgram = ShaderProgram {
    name: "gemv_w8_f16_native",
    parts: &[
        ENABLE_F16_WGSL,
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        GEMV_DENSE_WGSL,
        Q8_WEIGHTS_WGSL,
        Q8_DECODE_WGSL,
        GEMV_W_Q8_WGSL,
        GEMV_IO_F16_WGSL,
    ],
    needs_f16: true,
};

/// GEMV for one f16 activation row packed two per `u32` (any device), int8 weights.
pub const GEMV_W8_F16_PACKED: ShaderProgram = ShaderProgram {
    name: "gemv_w8_f16_packed",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        GEMV_DENSE_WGSL,
        Q8_WEIGHTS_WGSL,
        Q8_DECODE_WGSL,
        GEMV_W_Q8_WGSL,
        GEMV_IO_F16_PACKED_WGSL,
    ],
    needs_f16: false,
};

/// The shader programs of this kernel family.
pub const PROGRAMS: &[&ShaderProgram] = &[
    &MATMUL_W8_F32_VEC4,
    &MATMUL_W8_F32_SCALAR,
    &MATMUL_W8_F16_NATIVE,
    &MATMUL_W8_F16_PACKED,
    &GEMV_W8_F32,
    &GEMV_W8_F16_NATIVE,
    &GEMV_W8_F16_PACKED,
];

/// The tiled program for reduction length `k` and f16 path (`None` for f32 activations): f32
/// activations are read as vec4 when `k % 4 == 0`.
pub(super) fn tiled_program(k: usize, f16_path: Option<F16Path>) -> &'static ShaderProgram {
    match f16_path {
        None if k.is_multiple_of(4) => &MATMUL_W8_F32_VEC4,
        None => &MATMUL_W8_F32_SCALAR,
        Some(F16Path::Native) => &MATMUL_W8_F16_NATIVE,
        Some(F16Path::Packed) => &MATMUL_W8_F16_PACKED,
    }
}

/// The GEMV program for an f16 path (`None` for f32 activations).
pub(super) fn gemv_program(f16_path: Option<F16Path>) -> &'static ShaderProgram {
    match f16_path {
        None => &GEMV_W8_F32,
        Some(F16Path::Native) => &GEMV_W8_F16_NATIVE,
        Some(F16Path::Packed) => &GEMV_W8_F16_PACKED,
    }
}
