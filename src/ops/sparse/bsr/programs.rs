//! The BSR shader programs, each joined from whole WGSL files: a pass-1 core (GEMM or GEMV, float
//! or int8) with the work-list file and its operand loaders, and a reduce core with the shared
//! epilogue and a store. Block shapes are pipeline constants ([`pass1_constants`]), so each
//! program serves all six.

use crate::device::{OverrideConstant, ShaderProgram};
use crate::ops::matmul::int8::Dot4Path;
use crate::ops::matmul::tiled::{ACTIVATION_WGSL, EPILOGUE_WGSL};
use crate::tensor::bsr::BlockShape;

const WORK_WGSL: &str = include_str!("../../../../shaders/bsr_work.wgsl");
const GEMM_WGSL: &str = include_str!("../../../../shaders/bsr_gemm.wgsl");
const GEMV_WGSL: &str = include_str!("../../../../shaders/bsr_gemv.wgsl");
const GEMV_SLOTS_WGSL: &str = include_str!("../../../../shaders/bsr_gemv_slots.wgsl");
const VALUES_F32_WGSL: &str = include_str!("../../../../shaders/bsr_values_f32.wgsl");
const VALUES_F16_WGSL: &str = include_str!("../../../../shaders/bsr_values_f16.wgsl");
const X_F32_WGSL: &str = include_str!("../../../../shaders/bsr_x_f32.wgsl");
const X_F16_WGSL: &str = include_str!("../../../../shaders/bsr_x_f16.wgsl");
const REDUCE_WGSL: &str = include_str!("../../../../shaders/bsr_reduce.wgsl");
const STORE_F32_WGSL: &str = include_str!("../../../../shaders/bsr_store_f32.wgsl");
const STORE_F16_WGSL: &str = include_str!("../../../../shaders/bsr_store_f16.wgsl");
const DOT4_BUILTIN_WGSL: &str = include_str!("../../../../shaders/dot4_i8_builtin.wgsl");
const DOT4_UNPACKED_WGSL: &str = include_str!("../../../../shaders/dot4_i8_unpacked.wgsl");
const Q8_OPERANDS_WGSL: &str = include_str!("../../../../shaders/bsr_q8_operands.wgsl");
const GEMM_Q8_WGSL: &str = include_str!("../../../../shaders/bsr_gemm_q8.wgsl");
const GEMV_Q8_WGSL: &str = include_str!("../../../../shaders/bsr_gemv_q8.wgsl");
const REDUCE_Q8_WGSL: &str = include_str!("../../../../shaders/bsr_reduce_q8.wgsl");
const Q8_STORE_I32_WGSL: &str = include_str!("../../../../shaders/matmul_q8_store_i32.wgsl");
const Q8_STORE_F32_WGSL: &str = include_str!("../../../../shaders/matmul_q8_store_f32.wgsl");

/// Pass 1, tiled over 64 activation rows, f32 values and activations.
pub const BSR_GEMM_F32: ShaderProgram = ShaderProgram {
    name: "bsr_gemm_f32",
    parts: &[WORK_WGSL, GEMM_WGSL, VALUES_F32_WGSL, X_F32_WGSL],
    needs_f16: false,
};

/// Pass 1, tiled over 64 activation rows, f16 values and activations packed two per `u32`.
pub const BSR_GEMM_F16: ShaderProgram = ShaderProgram {
    name: "bsr_gemm_f16",
    parts: &[WORK_WGSL, GEMM_WGSL, VALUES_F16_WGSL, X_F16_WGSL],
    needs_f16: false,
};

/// Pass 1, one activation row per grid layer, f32 values and activations.
pub const BSR_GEMV_F32: ShaderProgram = ShaderProgram {
    name: "bsr_gemv_f32",
    parts: &[
        WORK_WGSL,
        GEMV_SLOTS_WGSL,
        GEMV_WGSL,
        VALUES_F32_WGSL,
        X_F32_WGSL,
    ],
    needs_f16: false,
};

/// Pass 1, one activation row per grid layer, f16 values and activations packed two per `u32`.
pub const BSR_GEMV_F16: ShaderProgram = ShaderProgram {
    name: "bsr_gemv_f16",
    parts: &[
        WORK_WGSL,
        GEMV_SLOTS_WGSL,
        GEMV_WGSL,
        VALUES_F16_WGSL,
        X_F16_WGSL,
    ],
    needs_f16: false,
};

/// Pass 2 for f32 output: chunk partials summed, bias, activation.
pub const BSR_REDUCE_F32: ShaderProgram = ShaderProgram {
    name: "bsr_reduce_f32",
    parts: &[ACTIVATION_WGSL, EPILOGUE_WGSL, REDUCE_WGSL, STORE_F32_WGSL],
    needs_f16: false,
};

/// Pass 2 for f16 output, packed two per `u32`, written in whole words.
pub const BSR_REDUCE_F16: ShaderProgram = ShaderProgram {
    name: "bsr_reduce_f16",
    parts: &[ACTIVATION_WGSL, EPILOGUE_WGSL, REDUCE_WGSL, STORE_F16_WGSL],
    needs_f16: false,
};

/// Int8 pass 1, tiled over 64 activation rows, `dot4I8Packed`.
pub const BSR_GEMM_Q8_BUILTIN: ShaderProgram = ShaderProgram {
    name: "bsr_gemm_q8_builtin",
    parts: &[DOT4_BUILTIN_WGSL, WORK_WGSL, Q8_OPERANDS_WGSL, GEMM_Q8_WGSL],
    needs_f16: false,
};

/// Int8 pass 1, tiled over 64 activation rows, int8 unpacked by shifts.
pub const BSR_GEMM_Q8_UNPACKED: ShaderProgram = ShaderProgram {
    name: "bsr_gemm_q8_unpacked",
    parts: &[
        DOT4_UNPACKED_WGSL,
        WORK_WGSL,
        Q8_OPERANDS_WGSL,
        GEMM_Q8_WGSL,
    ],
    needs_f16: false,
};

/// Int8 pass 1, one activation row per grid layer, `dot4I8Packed`.
pub const BSR_GEMV_Q8_BUILTIN: ShaderProgram = ShaderProgram {
    name: "bsr_gemv_q8_builtin",
    parts: &[
        DOT4_BUILTIN_WGSL,
        WORK_WGSL,
        Q8_OPERANDS_WGSL,
        GEMV_SLOTS_WGSL,
        GEMV_Q8_WGSL,
    ],
    needs_f16: false,
};

/// Int8 pass 1, one activation row per grid layer, int8 unpacked by shifts.
pub const BSR_GEMV_Q8_UNPACKED: ShaderProgram = ShaderProgram {
    name: "bsr_gemv_q8_unpacked",
    parts: &[
        DOT4_UNPACKED_WGSL,
        WORK_WGSL,
        Q8_OPERANDS_WGSL,
        GEMV_SLOTS_WGSL,
        GEMV_Q8_WGSL,
    ],
    needs_f16: false,
};

/// Int8 pass 2 storing the exact i32 accumulators.
pub const BSR_REDUCE_Q8_I32: ShaderProgram = ShaderProgram {
    name: "bsr_reduce_q8_i32",
    parts: &[REDUCE_Q8_WGSL, Q8_STORE_I32_WGSL],
    needs_f16: false,
};

/// Int8 pass 2 storing `act(x_scale · w_scale[n] · acc + bias[n])` in f32.
pub const BSR_REDUCE_Q8_F32: ShaderProgram = ShaderProgram {
    name: "bsr_reduce_q8_f32",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        REDUCE_Q8_WGSL,
        Q8_STORE_F32_WGSL,
    ],
    needs_f16: false,
};

/// Every BSR shader program (validated by naga in `ops::tests`).
pub const PROGRAMS: &[&ShaderProgram] = &[
    &BSR_GEMM_F32,
    &BSR_GEMM_F16,
    &BSR_GEMV_F32,
    &BSR_GEMV_F16,
    &BSR_REDUCE_F32,
    &BSR_REDUCE_F16,
    &BSR_GEMM_Q8_BUILTIN,
    &BSR_GEMM_Q8_UNPACKED,
    &BSR_GEMV_Q8_BUILTIN,
    &BSR_GEMV_Q8_UNPACKED,
    &BSR_REDUCE_Q8_I32,
    &BSR_REDUCE_Q8_F32,
];

/// Which pass-1 kernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pass1 {
    /// 64 activation rows per workgroup.
    Gemm,
    /// One activation row per workgroup, weights streamed.
    Gemv,
}

/// The element types of one product: float values (with matching activations and output) or
/// int8 on a dot-product path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operands {
    F32,
    F16,
    Q8(Dot4Path),
}

/// The pass-1 program for `operands` and `pass`.
pub(crate) fn pass1_program(operands: Operands, pass: Pass1) -> &'static ShaderProgram {
    match (operands, pass) {
        (Operands::F32, Pass1::Gemm) => &BSR_GEMM_F32,
        (Operands::F32, Pass1::Gemv) => &BSR_GEMV_F32,
        (Operands::F16, Pass1::Gemm) => &BSR_GEMM_F16,
        (Operands::F16, Pass1::Gemv) => &BSR_GEMV_F16,
        (Operands::Q8(Dot4Path::Builtin), Pass1::Gemm) => &BSR_GEMM_Q8_BUILTIN,
        (Operands::Q8(Dot4Path::Unpacked), Pass1::Gemm) => &BSR_GEMM_Q8_UNPACKED,
        (Operands::Q8(Dot4Path::Builtin), Pass1::Gemv) => &BSR_GEMV_Q8_BUILTIN,
        (Operands::Q8(Dot4Path::Unpacked), Pass1::Gemv) => &BSR_GEMV_Q8_UNPACKED,
    }
}

/// Threads that stream one chunk in the GEMV: `R·C / 4` (one window of four elements per thread
/// is a whole block, which the lane bookkeeping needs) but at least 32, a warp, so chunks of small
/// blocks share a 256-thread workgroup instead of idling most of it, and at most 256.
pub(crate) fn gemv_chunk_threads(block: BlockShape) -> usize {
    (block.area() / 4).clamp(32, 256)
}

/// The block-shape constants of a pass-1 program: `BLOCK_ROWS` and `BLOCK_COLS`; for the GEMV
/// also `CHUNK_THREADS` ([`gemv_chunk_threads`]); for the float GEMM `COLS_PER_THREAD` (block rows per thread, `max(R / 4, 1)`) and `K_SPLIT` (thread
/// groups splitting the gathered columns: 4 for `R = 1`, else 1), and for the int8 GEMM its
/// `ROWS_PER_THREAD × COLS_PER_THREAD = R` micro-tile (the shaders explain the choices).
pub(crate) fn pass1_constants(
    block: BlockShape,
    operands: Operands,
    pass: Pass1,
) -> Vec<OverrideConstant> {
    let rows = block.rows();
    let mut constants = vec![
        ("BLOCK_ROWS", rows as f64),
        ("BLOCK_COLS", block.cols() as f64),
    ];
    match (operands, pass) {
        (_, Pass1::Gemv) => {
            constants.push(("CHUNK_THREADS", gemv_chunk_threads(block) as f64));
        }
        (Operands::F32 | Operands::F16, Pass1::Gemm) => {
            constants.push(("COLS_PER_THREAD", (rows / 4).max(1) as f64));
            constants.push(("K_SPLIT", if rows == 1 { 4.0 } else { 1.0 }));
        }
        (Operands::Q8(_), Pass1::Gemm) => {
            let rows_per_thread = match rows {
                1 => 1,
                4 => 2,
                _ => 4,
            };
            constants.push(("ROWS_PER_THREAD", f64::from(rows_per_thread)));
            constants.push(("COLS_PER_THREAD", (rows / rows_per_thread as usize) as f64));
        }
    }
    constants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemv_groups_read_whole_blocks() {
        for block in BlockShape::ALL {
            let threads = gemv_chunk_threads(block);
            let window = 4 * threads;
            // A window is whole blocks, the groups tile the 256-thread workgroup, and every block
            // row has at least four slots per window (bsr_gemv_slots.wgsl's first-stage sums then
            // fit in one slot per thread).
            assert_eq!(window % block.area(), 0, "{block}");
            assert_eq!(256 % threads, 0, "{block}");
            assert!(window / block.rows() >= 4, "{block}");
        }
    }

    #[test]
    fn gemm_threads_cover_the_output_tile() {
        for block in BlockShape::ALL {
            let value = |constants: &[OverrideConstant], name: &str| {
                constants.iter().find(|(key, _)| *key == name).unwrap().1 as usize
            };
            let rows = block.rows();
            // Float: 16 row groups × R / COLS_PER_THREAD column groups × K_SPLIT = 64 threads,
            // with at most 8 vec4 accumulators per thread.
            let float = pass1_constants(block, Operands::F32, Pass1::Gemm);
            let cols_per_thread = value(&float, "COLS_PER_THREAD");
            assert_eq!(
                16 * rows / cols_per_thread * value(&float, "K_SPLIT"),
                64,
                "{block}"
            );
            assert!(
                cols_per_thread <= 8 && rows % cols_per_thread == 0,
                "{block}"
            );
            // Int8: 64 threads × (rows × cols per thread) = the 64 × R tile, within the shader's
            // register arrays of 4 rows, 8 columns and 32 accumulators.
            let int8 = pass1_constants(block, Operands::Q8(Dot4Path::Unpacked), Pass1::Gemm);
            let (rows_per_thread, cols_per_thread) = (
                value(&int8, "ROWS_PER_THREAD"),
                value(&int8, "COLS_PER_THREAD"),
            );
            assert_eq!(rows_per_thread * cols_per_thread, rows, "{block}");
            assert!(rows_per_thread <= 4 && cols_per_thread <= 8, "{block}");
            assert_eq!(64 % rows_per_thread, 0);
        }
    }
}
