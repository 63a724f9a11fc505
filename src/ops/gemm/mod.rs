//! ONNX Gemm: `Y = alpha·A'·B' + beta·C`, where `A' = Aᵀ` if `trans_a`, `B' = Bᵀ` if `trans_b`, and
//! C (optional) is unidirectionally broadcast to `[M, N]`: a scalar, `[N]`, `[M, 1]`, `[1, N]` or
//! `[M, N]`. f32 on the GPU through the tiled matmul core (`shaders/matmul_tiled.wgsl`) with a
//! transposed-A loader and a store that applies alpha, beta and C; when the Gemm is a plain
//! `A·B' + bias` (alpha 1, no transposed A, C absent or `[N]` with beta 1) it runs
//! [`matmul_f32`] instead, which may take the vec4 loads or the GEMV.
//! Reference and tolerance: [`reference_gemm`].

mod reference;

pub use reference::{reference_gemm, GemmReference};

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::elementwise::{binary, BinaryOp};
use crate::ops::layout::transpose;
use crate::ops::matmul::chunked;
use crate::ops::matmul::f32::{matmul_f32, A_F32_WGSL};
use crate::ops::matmul::tiled::{
    self, to_u32, TiledOperands, ACTIVATION_WGSL, EPILOGUE_WGSL, TILED_CORE_WGSL,
};
use crate::ops::matmul::{MatmulDims, MatmulOptions};
use crate::ops::Activation;
use crate::tensor::shape::{broadcast_shapes, broadcast_strides};
use crate::tensor::{DType, GpuTensor};

const B_F32_WGSL: &str = include_str!("../../../shaders/matmul_b_f32.wgsl");
const C_GEMM_WGSL: &str = include_str!("../../../shaders/matmul_c_gemm.wgsl");

/// Gemm with A stored `[M, K]`.
pub const GEMM_F32: ShaderProgram = ShaderProgram {
    name: "gemm_f32",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F32_WGSL,
        B_F32_WGSL,
        C_GEMM_WGSL,
    ],
    needs_f16: false,
};

/// Gemm with A stored transposed, `[K, M]`.
pub const GEMM_F32_A_TRANSPOSED: ShaderProgram = ShaderProgram {
    name: "gemm_f32_a_transposed",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        include_str!("../../../shaders/matmul_a_f32_t.wgsl"),
        B_F32_WGSL,
        C_GEMM_WGSL,
    ],
    needs_f16: false,
};

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] = &[&GEMM_F32, &GEMM_F32_A_TRANSPOSED];

/// The attributes of Gemm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GemmOptions {
    /// Multiplies `A'·B'` (ONNX default 1).
    pub alpha: f32,
    /// Multiplies C (ONNX default 1).
    pub beta: f32,
    /// A is stored `[K, M]`.
    pub trans_a: bool,
    /// B is stored `[N, K]`.
    pub trans_b: bool,
}

impl Default for GemmOptions {
    fn default() -> Self {
        GemmOptions {
            alpha: 1.0,
            beta: 1.0,
            trans_a: false,
            trans_b: false,
        }
    }
}

/// The product's dimensions (batch 1) after checking that A and B are matrices that multiply.
pub fn gemm_dims(
    op: &'static str,
    a_shape: &[usize],
    b_shape: &[usize],
    options: &GemmOptions,
) -> Result<MatmulDims> {
    let (&[a_rows, a_cols], &[_, _]) = (a_shape, b_shape) else {
        return Err(Error::ShapeMismatch {
            op,
            detail: format!("A and B must be matrices, got {a_shape:?} and {b_shape:?}"),
        });
    };
    let (m, k) = if options.trans_a {
        (a_cols, a_rows)
    } else {
        (a_rows, a_cols)
    };
    MatmulDims::infer(op, &[m, k], b_shape, options.trans_b)
}

/// The strides `[row, column]` that read C of `c_shape` broadcast to `[m, n]`, after checking that
/// it broadcasts there unidirectionally (rank ≤ 2, each dim 1 or the output's).
pub(crate) fn c_strides(
    op: &'static str,
    c_shape: &[usize],
    m: usize,
    n: usize,
) -> Result<[usize; 2]> {
    let fits = c_shape.len() <= 2
        && broadcast_shapes(op, c_shape, &[m, n]).is_ok_and(|shape| shape == [m, n]);
    if !fits {
        return Err(Error::ShapeMismatch {
            op,
            detail: format!("C {c_shape:?} does not broadcast to the output [{m}, {n}]"),
        });
    }
    let strides = broadcast_strides(c_shape, &[m, n]);
    Ok([strides[0], strides[1]])
}

/// `GemmParams` of `shaders/matmul_c_gemm.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GemmUniforms {
    alpha: f32,
    beta: f32,
    c_row_stride: u32,
    c_col_stride: u32,
}

/// The general Gemm with a B larger than one storage binding: `P = A'·B'` by [`matmul_f32`], which
/// binds B in parts ([`chunked`]), then `alpha·P + beta·C` element-wise (C broadcast).
fn gemm_in_parts(
    gpu: &Gpu,
    a: &GpuTensor,
    b: &GpuTensor,
    c: Option<&GpuTensor>,
    options: &GemmOptions,
) -> Result<GpuTensor> {
    let a_transposed = options
        .trans_a
        .then(|| transpose(gpu, a, None))
        .transpose()?;
    let matmul = MatmulOptions {
        b_transposed: options.trans_b,
        activation: Activation::Identity,
    };
    let product = matmul_f32(gpu, a_transposed.as_ref().unwrap_or(a), b, None, &matmul)?;
    let scaled = scale(gpu, &product, options.alpha)?;
    match c {
        Some(c) => binary(gpu, BinaryOp::Add, &scaled, &scale(gpu, c, options.beta)?),
        None => Ok(scaled),
    }
}

/// `factor · x` element-wise on the GPU.
fn scale(gpu: &Gpu, x: &GpuTensor, factor: f32) -> Result<GpuTensor> {
    let factor = GpuTensor::upload(gpu, &[1], &[factor])?;
    binary(gpu, BinaryOp::Mul, x, &factor)
}

/// Gemm in f32 on the GPU; returns Y `[M, N]`. A B larger than one storage binding is bound in
/// parts (see [`chunked`]).
pub fn gemm(
    gpu: &Gpu,
    a: &GpuTensor,
    b: &GpuTensor,
    c: Option<&GpuTensor>,
    options: &GemmOptions,
) -> Result<GpuTensor> {
    const OP: &str = "gemm";
    a.expect_dtype(OP, DType::F32)?;
    b.expect_dtype(OP, DType::F32)?;
    let dims = gemm_dims(OP, a.shape(), b.shape(), options)?;
    let strides = match c {
        Some(c) => {
            c.expect_dtype(OP, DType::F32)?;
            c_strides(OP, c.shape(), dims.m, dims.n)?
        }
        None => [0, 0],
    };
    let c_is_bias = c.is_none_or(|c| options.beta == 1.0 && c.shape() == [dims.n]);
    if options.alpha == 1.0 && !options.trans_a && c_is_bias {
        let matmul = MatmulOptions {
            b_transposed: options.trans_b,
            activation: Activation::Identity,
        };
        return matmul_f32(gpu, a, b, c, &matmul);
    }
    if chunked::exceeds_binding(gpu, b) {
        return gemm_in_parts(gpu, a, b, c, options);
    }
    let y = GpuTensor::uninit(gpu, &[dims.m, dims.n], DType::F32)?;
    let uniforms = GemmUniforms {
        alpha: options.alpha,
        beta: options.beta,
        c_row_stride: to_u32("Gemm C row stride", strides[0])?,
        c_col_stride: to_u32("Gemm C column stride", strides[1])?,
    };
    let program = if options.trans_a {
        &GEMM_F32_A_TRANSPOSED
    } else {
        &GEMM_F32
    };
    let operands = TiledOperands {
        a: a.buffer(),
        b: b.buffer(),
        bias: None,
        c: y.buffer(),
        extra: vec![
            (
                5,
                c.map_or(Binding::Unused, |c| Binding::Storage(c.buffer())),
            ),
            (6, Binding::Uniform(bytemuck::bytes_of(&uniforms))),
        ],
        constants: vec![
            tiled::b_transposed_constant(&dims),
            ("HAS_C", f64::from(u8::from(c.is_some()))),
        ],
    };
    tiled::launch_tiled(gpu, program, &dims, &MatmulOptions::default(), operands, 0)?;
    Ok(y)
}
