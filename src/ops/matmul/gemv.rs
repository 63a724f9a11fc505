//! Dense GEMV: one activation row times a weight stored `[N, K]` (B transposed, as a Linear layer
//! stores it), the memory-bound shape of matmul (batch-1 inference, token-by-token decoding).
//! [`matmul_f32`](super::f32::matmul_f32) and [`matmul_f16`](super::f16::matmul_f16) take this
//! path by themselves when [`gemv_fits`]; the reference is theirs, [`reference_matmul`](super::reference_matmul).
//! The same reduction and operand files serve the int4 and sparse GEMVs.

use crate::device::{Binding, Gpu, GpuBuffer, ShaderProgram};
use crate::error::Result;
use crate::ops::matmul::f16::ENABLE_F16_WGSL;
use crate::ops::matmul::tiled::{to_u32, ACTIVATION_WGSL, EPILOGUE_WGSL};
use crate::ops::matmul::MatmulDims;
use crate::ops::Activation;

/// The GEMVs' shared reduction, epilogue and paired store.
pub(crate) const GEMV_REDUCE_WGSL: &str = include_str!("../../../shaders/gemv_reduce.wgsl");
/// GEMV activation row and output as f32.
pub(crate) const GEMV_IO_F32_WGSL: &str = include_str!("../../../shaders/gemv_io_f32.wgsl");
/// GEMV activation row and output as WGSL `f16` (needs `SHADER_F16`).
pub(crate) const GEMV_IO_F16_WGSL: &str = include_str!("../../../shaders/gemv_io_f16.wgsl");
/// GEMV activation row and output as f16 packed two per `u32` (any device).
pub(crate) const GEMV_IO_F16_PACKED_WGSL: &str =
    include_str!("../../../shaders/gemv_io_f16_packed.wgsl");
const GEMV_DENSE_WGSL: &str = include_str!("../../../shaders/gemv_dense.wgsl");
const W_F16_PACKED_WGSL: &str = include_str!("../../../shaders/gemv_w_f16_packed.wgsl");

/// Output channels one workgroup computes (`ROWS_PER_WORKGROUP` in `gemv_reduce.wgsl`).
pub(crate) const GEMV_ROWS_PER_WORKGROUP: usize = 8;

/// f32 weight read one element at a time (any K), f32 row and output.
pub const GEMV_F32: ShaderProgram = ShaderProgram {
    name: "gemv_f32",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        GEMV_DENSE_WGSL,
        include_str!("../../../shaders/gemv_w_f32.wgsl"),
        GEMV_IO_F32_WGSL,
    ],
    needs_f16: false,
};

/// f32 weight read as vec4 (needs K % 4 == 0), f32 row and output.
pub const GEMV_F32_VEC4: ShaderProgram = ShaderProgram {
    name: "gemv_f32_vec4",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        GEMV_DENSE_WGSL,
        include_str!("../../../shaders/gemv_w_f32_vec4.wgsl"),
        GEMV_IO_F32_WGSL,
    ],
    needs_f16: false,
};

/// f16 weight (packed reads), row and output as WGSL `f16` (needs `SHADER_F16`).
pub const GEMV_F16_NATIVE: ShaderProgram = ShaderProgram {
    name: "gemv_f16_native",
    parts: &[
        ENABLE_F16_WGSL,
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        GEMV_DENSE_WGSL,
        W_F16_PACKED_WGSL,
        GEMV_IO_F16_WGSL,
    ],
    needs_f16: true,
};

/// f16 weight, row and output all packed two per `u32` (any device).
pub const GEMV_F16_PACKED: ShaderProgram = ShaderProgram {
    name: "gemv_f16_packed",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        GEMV_REDUCE_WGSL,
        GEMV_DENSE_WGSL,
        W_F16_PACKED_WGSL,
        GEMV_IO_F16_PACKED_WGSL,
    ],
    needs_f16: false,
};

/// The dense GEMV programs.
pub const PROGRAMS: &[&ShaderProgram] = &[
    &GEMV_F32,
    &GEMV_F32_VEC4,
    &GEMV_F16_NATIVE,
    &GEMV_F16_PACKED,
];

/// Whether the dense GEMV computes `dims`: one activation row, B stored `[N, K]`, and few enough
/// outputs for one row of workgroups on this device.
pub fn gemv_fits(gpu: &Gpu, dims: &MatmulDims) -> bool {
    let workgroups = dims.n.div_ceil(GEMV_ROWS_PER_WORKGROUP);
    dims.batch * dims.m == 1
        && dims.b_transposed
        && workgroups <= gpu.limits().max_compute_workgroups_per_dimension as usize
}

/// `GemvParams` in `gemv_dense.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GemvParams {
    n: u32,
    k: u32,
}

/// The buffers of one dense GEMV.
pub(crate) struct GemvOperands<'a> {
    pub a: &'a GpuBuffer,
    pub w: &'a GpuBuffer,
    pub bias: Option<&'a GpuBuffer>,
    pub y: &'a GpuBuffer,
}

/// Records one dense GEMV of `program` for `dims` (which must satisfy [`gemv_fits`]).
pub(crate) fn launch_dense_gemv(
    gpu: &Gpu,
    program: &ShaderProgram,
    dims: &MatmulDims,
    operands: GemvOperands<'_>,
    activation: Activation,
) -> Result<()> {
    let params = GemvParams {
        n: to_u32("GEMV output channels", dims.n)?,
        k: to_u32("GEMV K", dims.k)?,
    };
    to_u32("GEMV weight elements", dims.n * dims.k)?;
    let mut constants = activation.override_constants().to_vec();
    constants.push(("HAS_BIAS", f64::from(u8::from(operands.bias.is_some()))));
    let pipeline = gpu.pipeline(program, &constants)?;
    let bindings = [
        (0, Binding::Storage(operands.a)),
        (1, Binding::Storage(operands.w)),
        (2, operands.bias.map_or(Binding::Unused, Binding::Storage)),
        (3, Binding::Storage(operands.y)),
        (4, Binding::Uniform(bytemuck::bytes_of(&params))),
    ];
    let workgroups = to_u32("GEMV workgroups", dims.n.div_ceil(GEMV_ROWS_PER_WORKGROUP))?;
    gpu.dispatch(&pipeline, &bindings, [workgroups, 1, 1])
}
