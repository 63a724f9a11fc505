//! The conv shader programs. The implicit GEMMs are the matmul family's tiled core
//! (`shaders/matmul_tiled.wgsl`) with the weight as A (the stock `matmul_a_*` loaders: the weight
//! `[M, C/groups, kH, kW]` is already `[M/groups, K]` row-major per group), the im2col gather as B
//! (`matmul_b_im2col*.wgsl`) and an NCHW C store (`matmul_c_nchw_*.wgsl`), or an int8 weight
//! through `matmul_a_q8w.wgsl` or an int4 one through `matmul_a_q4.wgsl` (weight-only); depthwise,
//! transposed and int8 convolutions (GEMM and depthwise) are kernels of their own, and the
//! packed-weight path is an explicit
//! im2col and a copy back to NCHW around the weight kernels ([`super::im2col`]).

use crate::device::ShaderProgram;
use crate::ops::matmul::f16::{A_F16_PACKED_WGSL, A_F16_WGSL, ENABLE_F16_WGSL};
use crate::ops::matmul::f32::A_F32_WGSL;
use crate::ops::matmul::int4::Q4_DECODE_WGSL;
use crate::ops::matmul::tiled::{ACTIVATION_WGSL, TILED_CORE_WGSL};
use crate::ops::matmul::w8a32::Q8_DECODE_WGSL;

const GEOMETRY_WGSL: &str = include_str!("../../../shaders/conv_geometry.wgsl");
const EPILOGUE_WGSL: &str = include_str!("../../../shaders/conv_epilogue.wgsl");
const IM2COL_WGSL: &str = include_str!("../../../shaders/matmul_b_im2col.wgsl");
const A_F32_VEC4_WGSL: &str = include_str!("../../../shaders/matmul_a_f32_vec4.wgsl");
const DOT4_I8_BUILTIN_WGSL: &str = include_str!("../../../shaders/dot4_i8_builtin.wgsl");
const DOT4_I8_UNPACKED_WGSL: &str = include_str!("../../../shaders/dot4_i8_unpacked.wgsl");
const CONV_Q8_WGSL: &str = include_str!("../../../shaders/conv_q8.wgsl");
const Q8_REQUANTIZE_WGSL: &str = include_str!("../../../shaders/conv_q8_requantize.wgsl");

/// f32 implicit GEMM, weights read as vec4 (needs `K = C/groups·kH·kW` divisible by 4).
pub const CONV2D_F32_VEC4: ShaderProgram = ShaderProgram {
    name: "conv2d_f32_vec4",
    parts: &[
        ACTIVATION_WGSL,
        GEOMETRY_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F32_VEC4_WGSL,
        IM2COL_WGSL,
        include_str!("../../../shaders/matmul_b_im2col_f32.wgsl"),
        include_str!("../../../shaders/matmul_c_nchw_f32.wgsl"),
    ],
    needs_f16: false,
};

/// f32 implicit GEMM, weights read one element at a time: any shape.
pub const CONV2D_F32_SCALAR: ShaderProgram = ShaderProgram {
    name: "conv2d_f32_scalar",
    parts: &[
        ACTIVATION_WGSL,
        GEOMETRY_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F32_WGSL,
        IM2COL_WGSL,
        include_str!("../../../shaders/matmul_b_im2col_f32.wgsl"),
        include_str!("../../../shaders/matmul_c_nchw_f32.wgsl"),
    ],
    needs_f16: false,
};

/// f32 implicit GEMM with an int8 weight dequantized in registers (weight-only int8, W8A32): any
/// shape and group count.
pub const CONV2D_W8_F32: ShaderProgram = ShaderProgram {
    name: "conv2d_w8_f32",
    parts: &[
        ACTIVATION_WGSL,
        GEOMETRY_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        include_str!("../../../shaders/conv_a_q8_bindings.wgsl"),
        Q8_DECODE_WGSL,
        include_str!("../../../shaders/matmul_a_q8w.wgsl"),
        IM2COL_WGSL,
        include_str!("../../../shaders/matmul_b_im2col_f32.wgsl"),
        include_str!("../../../shaders/matmul_c_nchw_f32.wgsl"),
    ],
    needs_f16: false,
};

/// f32 implicit GEMM with an int4 weight dequantized in registers (weight-only int4): any shape
/// and group count.
pub const CONV2D_W4_F32: ShaderProgram = ShaderProgram {
    name: "conv2d_w4_f32",
    parts: &[
        ACTIVATION_WGSL,
        GEOMETRY_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        include_str!("../../../shaders/conv_a_q4_bindings.wgsl"),
        Q4_DECODE_WGSL,
        include_str!("../../../shaders/matmul_a_q4.wgsl"),
        IM2COL_WGSL,
        include_str!("../../../shaders/matmul_b_im2col_f32.wgsl"),
        include_str!("../../../shaders/matmul_c_nchw_f32.wgsl"),
    ],
    needs_f16: false,
};

/// f16 implicit GEMM with WGSL `f16` storage (needs `SHADER_F16`).
pub const CONV2D_F16_NATIVE: ShaderProgram = ShaderProgram {
    name: "conv2d_f16_native",
    parts: &[
        ENABLE_F16_WGSL,
        ACTIVATION_WGSL,
        GEOMETRY_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F16_WGSL,
        IM2COL_WGSL,
        include_str!("../../../shaders/matmul_b_im2col_f16.wgsl"),
        include_str!("../../../shaders/matmul_c_nchw_f16.wgsl"),
    ],
    needs_f16: true,
};

/// f16 implicit GEMM with f16 packed two per `u32`: any device. The output must start zeroed.
pub const CONV2D_F16_PACKED: ShaderProgram = ShaderProgram {
    name: "conv2d_f16_packed",
    parts: &[
        ACTIVATION_WGSL,
        GEOMETRY_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F16_PACKED_WGSL,
        IM2COL_WGSL,
        include_str!("../../../shaders/matmul_b_im2col_f16_packed.wgsl"),
        include_str!("../../../shaders/matmul_c_nchw_f16_packed.wgsl"),
    ],
    needs_f16: false,
};

/// Direct depthwise f32 kernel (groups == C == M).
pub const CONV2D_DEPTHWISE_F32: ShaderProgram = ShaderProgram {
    name: "conv2d_depthwise_f32",
    parts: &[
        ACTIVATION_WGSL,
        GEOMETRY_WGSL,
        EPILOGUE_WGSL,
        include_str!("../../../shaders/conv_depthwise_f32.wgsl"),
    ],
    needs_f16: false,
};

/// Transposed convolution in f32, gathering.
pub const CONV_TRANSPOSE2D_F32: ShaderProgram = ShaderProgram {
    name: "conv_transpose2d_f32",
    parts: &[
        ACTIVATION_WGSL,
        GEOMETRY_WGSL,
        EPILOGUE_WGSL,
        include_str!("../../../shaders/conv_transpose_f32.wgsl"),
    ],
    needs_f16: false,
};

/// Int8 QLinearConv with `dot4I8Packed`.
pub const CONV2D_Q8_BUILTIN: ShaderProgram = ShaderProgram {
    name: "conv2d_q8_builtin",
    parts: &[
        DOT4_I8_BUILTIN_WGSL,
        GEOMETRY_WGSL,
        Q8_REQUANTIZE_WGSL,
        CONV_Q8_WGSL,
    ],
    needs_f16: false,
};

/// Int8 QLinearConv with int8 unpacked by shifts: any device.
pub const CONV2D_Q8_UNPACKED: ShaderProgram = ShaderProgram {
    name: "conv2d_q8_unpacked",
    parts: &[
        DOT4_I8_UNPACKED_WGSL,
        GEOMETRY_WGSL,
        Q8_REQUANTIZE_WGSL,
        CONV_Q8_WGSL,
    ],
    needs_f16: false,
};

/// Direct depthwise int8 QLinearConv (groups == C, any channel multiplier): any device.
pub const CONV2D_DEPTHWISE_Q8: ShaderProgram = ShaderProgram {
    name: "conv2d_depthwise_q8",
    parts: &[
        GEOMETRY_WGSL,
        Q8_REQUANTIZE_WGSL,
        include_str!("../../../shaders/conv_depthwise_q8.wgsl"),
    ],
    needs_f16: false,
};

/// The im2col slab's workgroup size and `SlabParams`, shared by the two programs below.
const SLAB_WGSL: &str = include_str!("../../../shaders/conv_slab.wgsl");

/// Slab rows of the patch matrix, for any one-group convolution.
pub const CONV_IM2COL: ShaderProgram = ShaderProgram {
    name: "conv_im2col",
    parts: &[
        GEOMETRY_WGSL,
        SLAB_WGSL,
        include_str!("../../../shaders/conv_im2col.wgsl"),
    ],
    needs_f16: false,
};

/// A slab's `[rows, M]` products copied into the NCHW output.
pub const CONV_ROWS_TO_NCHW: ShaderProgram = ShaderProgram {
    name: "conv_rows_to_nchw",
    parts: &[
        SLAB_WGSL,
        include_str!("../../../shaders/conv_rows_to_nchw.wgsl"),
    ],
    needs_f16: false,
};

/// Every conv program.
pub const PROGRAMS: &[&ShaderProgram] = &[
    &CONV2D_F32_VEC4,
    &CONV2D_F32_SCALAR,
    &CONV2D_W8_F32,
    &CONV2D_W4_F32,
    &CONV2D_F16_NATIVE,
    &CONV2D_F16_PACKED,
    &CONV2D_DEPTHWISE_F32,
    &CONV_TRANSPOSE2D_F32,
    &CONV2D_Q8_BUILTIN,
    &CONV2D_Q8_UNPACKED,
    &CONV2D_DEPTHWISE_Q8,
    &CONV_IM2COL,
    &CONV_ROWS_TO_NCHW,
];
