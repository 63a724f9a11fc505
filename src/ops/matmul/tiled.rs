//! Launching the tiled GEMM core (`shaders/matmul_tiled.wgsl`) shared by the f32, f16 and int4
//! kernels: the uniform block, the grid, and the bindings every variant has in common.

use crate::device::{Binding, Gpu, GpuBuffer, OverrideConstant, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::matmul::{MatmulDims, MatmulOptions};

/// The WGSL files every tiled program starts with, in order.
pub(crate) const ACTIVATION_WGSL: &str = include_str!("../../../shaders/activation.wgsl");
pub(crate) const EPILOGUE_WGSL: &str = include_str!("../../../shaders/matmul_epilogue.wgsl");
pub(crate) const TILED_CORE_WGSL: &str = include_str!("../../../shaders/matmul_tiled.wgsl");

/// Output rows and columns one workgroup computes (`TILE_M`, `TILE_N` in the shader).
const TILE: usize = 64;

/// `MatmulParams` in `matmul_tiled.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct TiledParams {
    m: u32,
    n: u32,
    k: u32,
    batch: u32,
    a_batch_stride: u32,
    b_batch_stride: u32,
    c_batch_stride: u32,
    b_groups_per_row: u32,
}

/// The buffers of one tiled matmul: A, B, the optional bias, C, any kernel-specific extras
/// (bindings 5 and up), and the override constants its loaders declare (beyond the epilogue's).
pub(crate) struct TiledOperands<'a> {
    pub a: &'a GpuBuffer,
    pub b: &'a GpuBuffer,
    pub bias: Option<&'a GpuBuffer>,
    pub c: &'a GpuBuffer,
    pub extra: Vec<(u32, Binding<'a>)>,
    pub constants: Vec<OverrideConstant>,
}

/// The `B_TRANSPOSED` override that the dense B loaders (f32, f16) declare.
pub(crate) fn b_transposed_constant(dims: &MatmulDims) -> OverrideConstant {
    ("B_TRANSPOSED", f64::from(u8::from(dims.b_transposed)))
}

/// `value` as a u32 for a shader parameter, or [`Error::LimitExceeded`].
pub(crate) fn to_u32(what: &'static str, value: usize) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::LimitExceeded {
        what,
        requested: value as u64,
        limit: u64::from(u32::MAX),
    })
}

/// Records one dispatch of `program` (a tiled-core program) for `dims`. `b_groups_per_row` is only
/// read by group-quantized B loaders.
pub(crate) fn launch_tiled(
    gpu: &Gpu,
    program: &ShaderProgram,
    dims: &MatmulDims,
    options: &MatmulOptions,
    operands: TiledOperands<'_>,
    b_groups_per_row: usize,
) -> Result<()> {
    let params = TiledParams {
        m: to_u32("matmul M", dims.m)?,
        n: to_u32("matmul N", dims.n)?,
        k: to_u32("matmul K", dims.k)?,
        batch: to_u32("matmul batch", dims.batch)?,
        a_batch_stride: to_u32("matmul A elements per batch", dims.m * dims.k)?,
        b_batch_stride: if dims.b_batched {
            to_u32("matmul B elements per batch", dims.k * dims.n)?
        } else {
            0
        },
        c_batch_stride: to_u32("matmul C elements per batch", dims.m * dims.n)?,
        b_groups_per_row: to_u32("matmul B groups per row", b_groups_per_row)?,
    };
    to_u32("matmul A elements", dims.batch * dims.m * dims.k)?;
    let mut constants: Vec<OverrideConstant> = options.activation.override_constants().to_vec();
    constants.push(("HAS_BIAS", f64::from(u8::from(operands.bias.is_some()))));
    constants.extend_from_slice(&operands.constants);
    let pipeline = gpu.pipeline(program, &constants)?;
    let mut bindings = vec![
        (0, Binding::Storage(operands.a)),
        (1, Binding::Storage(operands.b)),
        (2, operands.bias.map_or(Binding::Unused, Binding::Storage)),
        (3, Binding::Storage(operands.c)),
        (4, Binding::Uniform(bytemuck::bytes_of(&params))),
    ];
    bindings.extend(operands.extra);
    let workgroups = [
        to_u32("matmul column tiles", dims.n.div_ceil(TILE))?,
        to_u32("matmul row tiles", dims.m.div_ceil(TILE))?,
        to_u32("matmul batch", dims.batch)?,
    ];
    gpu.dispatch(&pipeline, &bindings, workgroups)
}

/// Checks that `bias` is f32 with one value per output column.
pub(crate) fn check_bias(
    op: &'static str,
    bias: Option<&crate::tensor::GpuTensor>,
    n: usize,
) -> Result<()> {
    if let Some(bias) = bias {
        bias.expect_dtype(op, crate::tensor::DType::F32)?;
        if bias.shape() != [n] {
            return Err(Error::ShapeMismatch {
                op,
                detail: format!(
                    "bias must be [{n}] (one per output column), got {:?}",
                    bias.shape()
                ),
            });
        }
    }
    Ok(())
}
