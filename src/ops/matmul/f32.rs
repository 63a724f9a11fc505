//! f32 matmul: the tiled core with f32 operands, read as vec4 when the shape allows it.
//! Reference: [`reference_matmul`](crate::ops::matmul::reference_matmul) on the same operands.

use crate::device::{Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::matmul::dense::{launch_dense, DenseOperands, DenseProgram};
use crate::ops::matmul::tiled::{self, ACTIVATION_WGSL, EPILOGUE_WGSL, TILED_CORE_WGSL};
use crate::ops::matmul::{chunked, gemv};
use crate::ops::matmul::{MatmulDims, MatmulOptions};
use crate::tensor::{DType, GpuTensor};

/// A as f32, one element per load (also used by the int4-weight kernel).
pub(crate) const A_F32_WGSL: &str = include_str!("../../../shaders/matmul_a_f32.wgsl");
/// C stored as f32 (also used by the int4-weight kernel).
pub(crate) const C_F32_WGSL: &str = include_str!("../../../shaders/matmul_c_f32.wgsl");

/// f32 operands loaded as vec4: needs K % 4 == 0, and N % 4 == 0 unless B is transposed.
pub const MATMUL_F32_VEC4: ShaderProgram = ShaderProgram {
    name: "matmul_f32_vec4",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        include_str!("../../../shaders/matmul_a_f32_vec4.wgsl"),
        include_str!("../../../shaders/matmul_b_f32_vec4.wgsl"),
        C_F32_WGSL,
    ],
    needs_f16: false,
};

/// f32 operands loaded one element at a time: any shape.
pub const MATMUL_F32_SCALAR: ShaderProgram = ShaderProgram {
    name: "matmul_f32_scalar",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F32_WGSL,
        include_str!("../../../shaders/matmul_b_f32.wgsl"),
        C_F32_WGSL,
    ],
    needs_f16: false,
};

/// How the f32 kernel reads its operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum F32LoadPath {
    /// vec4 loads when the shape allows them, scalar otherwise.
    #[default]
    Auto,
    /// 16-byte loads; an error if the shape does not allow them.
    Vec4,
    /// One element per load.
    Scalar,
}

/// Whether `dims` allows vec4 loads of both operands.
pub fn vec4_loads_fit(dims: &MatmulDims) -> bool {
    dims.k.is_multiple_of(4) && (dims.b_transposed || dims.n.is_multiple_of(4))
}

/// `act(A·B + bias)` in f32 on the GPU. See [`MatmulDims`] for the accepted shapes. One row times
/// a transposed B runs the dense GEMV ([`gemv`]), everything else the tiled kernel. A B larger
/// than one storage binding is bound in parts (see [`chunked`]).
pub fn matmul_f32(
    gpu: &Gpu,
    a: &GpuTensor,
    b: &GpuTensor,
    bias: Option<&GpuTensor>,
    options: &MatmulOptions,
) -> Result<GpuTensor> {
    matmul_f32_with_path(gpu, a, b, bias, options, F32LoadPath::Auto)
}

/// [`matmul_f32`] with the load path chosen by the caller: `Auto` may take the GEMV, an explicit
/// `Vec4` or `Scalar` always runs the tiled kernel (tests cover every path).
pub fn matmul_f32_with_path(
    gpu: &Gpu,
    a: &GpuTensor,
    b: &GpuTensor,
    bias: Option<&GpuTensor>,
    options: &MatmulOptions,
    path: F32LoadPath,
) -> Result<GpuTensor> {
    const OP: &str = "matmul_f32";
    a.expect_dtype(OP, DType::F32)?;
    b.expect_dtype(OP, DType::F32)?;
    let dims = MatmulDims::infer(OP, a.shape(), b.shape(), options.b_transposed)?;
    tiled::check_bias(OP, bias, dims.n)?;
    if chunked::exceeds_binding(gpu, b) {
        let product =
            |a: &GpuTensor, b: &GpuTensor, bias: Option<&GpuTensor>, options: &MatmulOptions| {
                matmul_f32_with_path(gpu, a, b, bias, options, path)
            };
        return chunked::matmul_in_parts(gpu, [a, b], bias, options, &product);
    }
    let program = if path == F32LoadPath::Auto && gemv::gemv_fits(gpu, &dims) {
        DenseProgram::Gemv(if dims.k.is_multiple_of(4) {
            &gemv::GEMV_F32_VEC4
        } else {
            &gemv::GEMV_F32
        })
    } else {
        DenseProgram::Tiled(match path {
            F32LoadPath::Auto if vec4_loads_fit(&dims) => &MATMUL_F32_VEC4,
            F32LoadPath::Auto | F32LoadPath::Scalar => &MATMUL_F32_SCALAR,
            F32LoadPath::Vec4 if vec4_loads_fit(&dims) => &MATMUL_F32_VEC4,
            F32LoadPath::Vec4 => {
                return Err(Error::InvalidArgument {
                    op: OP,
                    detail: format!(
                        "vec4 loads need K % 4 == 0 and (B transposed or N % 4 == 0); \
                         got K = {}, N = {}",
                        dims.k, dims.n
                    ),
                })
            }
        })
    };
    let c = GpuTensor::uninit(gpu, &dims.output_shape(a.shape().len()), DType::F32)?;
    launch_dense(
        gpu,
        program,
        &dims,
        options,
        DenseOperands { a, b, bias, c: &c },
    )?;
    Ok(c)
}
