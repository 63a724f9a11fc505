//! Dense GEMV: one activation row times a weight stored `[N, K]` (B transposed, as a Linear layer
//! stores it), the memory-bound shape of matmul (batch-1 inference, token-by-token decoding).
//! [`matmul_f32`](super::f32::matmul_f32) and [`matmul_f16`](super::f16::matmul_f16) take this
//! path by themselves when [`gemv_fits`]; the reference is theirs, [`reference_matmul`](super::reference_matmul).
//! The same reduction and operand files serve the int4 and sparse GEMVs.

use crate::device::{Binding, Gpu, GpuBuffer, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::matmul::f16::{new_f16_output, F16Path, ENABLE_F16_WGSL};
use crate::ops::matmul::tiled::{to_u32, ACTIVATION_WGSL, EPILOGUE_WGSL};
use crate::ops::matmul::MatmulDims;
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

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
    let max_workgroups = gpu.limits().max_compute_workgroups_per_dimension as usize;
    dims.b_transposed
        && choose_gemv("gemv_fits", WeightKernel::Auto, dims, &[], max_workgroups).unwrap_or(false)
}

/// Which kernel a product with a weight stored `[N, K]` runs (int4, N:M sparse).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WeightKernel {
    /// The GEMV for one activation row (when its workgroups fit one dispatch dimension), the
    /// tiled kernel otherwise.
    #[default]
    Auto,
    /// The tiled GEMM kernel: any shape.
    Tiled,
    /// The GEMV: only for `batch·M = 1`; other shapes are an [`Error::InvalidArgument`].
    Gemv,
}

/// Whether `kernel` runs as a GEMV for `dims` (W stored `[N, K]`) on a device allowing
/// `max_workgroups` per dispatch dimension; `a_shape` is the activations' shape, for the error.
pub(crate) fn choose_gemv(
    op: &'static str,
    kernel: WeightKernel,
    dims: &MatmulDims,
    a_shape: &[usize],
    max_workgroups: usize,
) -> Result<bool> {
    let one_row = dims.batch * dims.m == 1;
    match kernel {
        WeightKernel::Auto => {
            Ok(one_row && dims.n.div_ceil(GEMV_ROWS_PER_WORKGROUP) <= max_workgroups)
        }
        WeightKernel::Tiled => Ok(false),
        WeightKernel::Gemv if one_row => Ok(true),
        WeightKernel::Gemv => Err(Error::InvalidArgument {
            op,
            detail: format!(
                "the GEMV kernel takes one row (batch·M = 1), the input is {a_shape:?}"
            ),
        }),
    }
}

/// The output of a matmul-family product: f32 without an f16 path; f16 with one, zeroed first only
/// when the tiled kernel's packed store (which ORs halves into words) writes it; the GEMVs write
/// whole words.
pub(crate) fn product_output(
    gpu: &Gpu,
    shape: &[usize],
    f16_path: Option<F16Path>,
    use_gemv: bool,
) -> Result<GpuTensor> {
    match f16_path {
        None => GpuTensor::uninit(gpu, shape, DType::F32),
        Some(_) if use_gemv => GpuTensor::uninit(gpu, shape, DType::F16),
        Some(path) => new_f16_output(gpu, shape, path),
    }
}

/// `GemvParams` in `gemv_dense.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GemvParams {
    n: u32,
    k: u32,
}

/// The buffers of one GEMV over `gemv_dense.wgsl`: the row, the weight, the optional bias, the
/// output, and any bindings the weight file adds (5 and up; the int8 weights' scales and zero
/// points).
pub(crate) struct GemvOperands<'a> {
    pub a: &'a GpuBuffer,
    pub w: &'a GpuBuffer,
    pub bias: Option<&'a GpuBuffer>,
    pub y: &'a GpuBuffer,
    pub extra: Vec<(u32, Binding<'a>)>,
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
    let mut bindings = vec![
        (0, Binding::Storage(operands.a)),
        (1, Binding::Storage(operands.w)),
        (2, operands.bias.map_or(Binding::Unused, Binding::Storage)),
        (3, Binding::Storage(operands.y)),
        (4, Binding::Uniform(bytemuck::bytes_of(&params))),
    ];
    bindings.extend(operands.extra);
    let workgroups = to_u32("GEMV workgroups", dims.n.div_ceil(GEMV_ROWS_PER_WORKGROUP))?;
    gpu.dispatch(&pipeline, &bindings, [workgroups, 1, 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_products_take_the_gemv_only_for_one_row() {
        let one_row = MatmulDims::infer("t", &[1, 1, 8], &[3, 8], true).unwrap();
        let rows = MatmulDims::infer("t", &[2, 8], &[3, 8], true).unwrap();
        let wide = MatmulDims::infer("t", &[1, 8], &[100, 8], true).unwrap();
        assert!(choose_gemv("t", WeightKernel::Auto, &one_row, &[1, 1, 8], 65535).unwrap());
        assert!(!choose_gemv("t", WeightKernel::Auto, &rows, &[2, 8], 65535).unwrap());
        assert!(!choose_gemv("t", WeightKernel::Tiled, &one_row, &[1, 1, 8], 65535).unwrap());
        // 100 outputs need 13 workgroups: Auto falls back to the tiled kernel beyond the limit.
        assert!(!choose_gemv("t", WeightKernel::Auto, &wide, &[1, 8], 12).unwrap());
        assert!(choose_gemv("t", WeightKernel::Auto, &wide, &[1, 8], 13).unwrap());
        let gemv = choose_gemv("t", WeightKernel::Gemv, &rows, &[2, 8], 65535);
        assert!(matches!(gemv, Err(Error::InvalidArgument { .. })));
    }
}
