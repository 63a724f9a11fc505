//! The N:M shader programs, and which one runs: the tiled GEMM core with the N:M B loader
//! (`shaders/matmul_b_nm.wgsl`) beside the shared A loaders and C stores, and the GEMV
//! (`shaders/gemv_nm.wgsl`) with one operand file per activation dtype. Both read the weight
//! through `shaders/nm_positions.wgsl` and one values file per value dtype.

use crate::device::ShaderProgram;
use crate::ops::matmul::f16::{
    F16Path, A_F16_PACKED_WGSL, A_F16_WGSL, C_F16_PACKED_WGSL, C_F16_WGSL, ENABLE_F16_WGSL,
};
use crate::ops::matmul::f32::{A_F32_WGSL, C_F32_WGSL};
use crate::ops::matmul::gemv::GEMV_REDUCE_WGSL;
use crate::ops::matmul::tiled::{ACTIVATION_WGSL, EPILOGUE_WGSL, TILED_CORE_WGSL};

const POSITIONS_WGSL: &str = include_str!("../../../../shaders/nm_positions.wgsl");
const VALUES_F32_WGSL: &str = include_str!("../../../../shaders/nm_values_f32.wgsl");
const VALUES_F16_WGSL: &str = include_str!("../../../../shaders/nm_values_f16.wgsl");
const B_NM_WGSL: &str = include_str!("../../../../shaders/matmul_b_nm.wgsl");
const GEMV_NM_WGSL: &str = include_str!("../../../../shaders/gemv_nm.wgsl");

/// f32 activations read as vec4 (needs K % 4 == 0), f32 values, f32 output.
pub const MATMUL_NM_F32_VEC4: ShaderProgram = ShaderProgram {
    name: "matmul_nm_f32_vec4",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        include_str!("../../../../shaders/matmul_a_f32_vec4.wgsl"),
        POSITIONS_WGSL,
        VALUES_F32_WGSL,
        B_NM_WGSL,
        C_F32_WGSL,
    ],
    needs_f16: false,
};

/// f32 activations read one element at a time (any K), f32 values, f32 output.
pub const MATMUL_NM_F32_SCALAR: ShaderProgram = ShaderProgram {
    name: "matmul_nm_f32_scalar",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F32_WGSL,
        POSITIONS_WGSL,
        VALUES_F32_WGSL,
        B_NM_WGSL,
        C_F32_WGSL,
    ],
    needs_f16: false,
};

/// f16 activations and output as WGSL `f16` (needs `SHADER_F16`), f16 values read packed.
pub const MATMUL_NM_F16_NATIVE: ShaderProgram = ShaderProgram {
    name: "matmul_nm_f16_native",
    parts: &[
        ENABLE_F16_WGSL,
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F16_WGSL,
        POSITIONS_WGSL,
        VALUES_F16_WGSL,
        B_NM_WGSL,
        C_F16_WGSL,
    ],
    needs_f16: true,
};

/// f16 activations, values and output packed two per `u32` (any device). The output must start
/// zeroed (`f16::new_f16_output`).
pub const MATMUL_NM_F16_PACKED: ShaderProgram = ShaderProgram {
    name: "matmul_nm_f16_packed",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F16_PACKED_WGSL,
        POSITIONS_WGSL,
        VALUES_F16_WGSL,
        B_NM_WGSL,
        C_F16_PACKED_WGSL,
    ],
    needs_f16: false,
};

/// GEMV for one f32 activation row, f32 values, f32 output.
pub const GEMV_NM_F32: ShaderProgram = ShaderProgram {
    name: "gemv_nm_f32",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        POSITIONS_WGSL,
        VALUES_F32_WGSL,
        GEMV_NM_WGSL,
        include_str!("../../../../shaders/gemv_nm_io_f32.wgsl"),
    ],
    needs_f16: false,
};

/// GEMV for one f16 activation row as WGSL `f16` (needs `SHADER_F16`), f16 values read packed,
/// f16 output.
pub const GEMV_NM_F16_NATIVE: ShaderProgram = ShaderProgram {
    name: "gemv_nm_f16_native",
    parts: &[
        ENABLE_F16_WGSL,
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        POSITIONS_WGSL,
        VALUES_F16_WGSL,
        GEMV_NM_WGSL,
        include_str!("../../../../shaders/gemv_nm_io_f16.wgsl"),
    ],
    needs_f16: true,
};

/// GEMV for one f16 activation row, f16 values and f16 output, all packed two per `u32` (any
/// device).
pub const GEMV_NM_F16_PACKED: ShaderProgram = ShaderProgram {
    name: "gemv_nm_f16_packed",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        POSITIONS_WGSL,
        VALUES_F16_WGSL,
        GEMV_NM_WGSL,
        include_str!("../../../../shaders/gemv_nm_io_f16_packed.wgsl"),
    ],
    needs_f16: false,
};

/// The shader programs of the N:M family.
pub const PROGRAMS: &[&ShaderProgram] = &[
    &MATMUL_NM_F32_VEC4,
    &MATMUL_NM_F32_SCALAR,
    &MATMUL_NM_F16_NATIVE,
    &MATMUL_NM_F16_PACKED,
    &GEMV_NM_F32,
    &GEMV_NM_F16_NATIVE,
    &GEMV_NM_F16_PACKED,
];

/// The tiled program for reduction length `k` and f16 path (`None` for f32 activations and
/// values): f32 activations are read as vec4 when `k % 4 == 0`.
pub(super) fn tiled_program(k: usize, f16_path: Option<F16Path>) -> &'static ShaderProgram {
    match f16_path {
        None if k.is_multiple_of(4) => &MATMUL_NM_F32_VEC4,
        None => &MATMUL_NM_F32_SCALAR,
        Some(F16Path::Native) => &MATMUL_NM_F16_NATIVE,
        Some(F16Path::Packed) => &MATMUL_NM_F16_PACKED,
    }
}

/// The GEMV program for an f16 path (`None` for f32 activations and values).
pub(super) fn gemv_program(f16_path: Option<F16Path>) -> &'static ShaderProgram {
    match f16_path {
        None => &GEMV_NM_F32,
        Some(F16Path::Native) => &GEMV_NM_F16_NATIVE,
        Some(F16Path::Packed) => &GEMV_NM_F16_PACKED,
    }
}
