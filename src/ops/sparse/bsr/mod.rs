//! Block-sparse matmul on the GPU: `Y = act(X · Wᵀ + bias)` with `X` `[M, K]` or `[batch, M, K]`
//! (every batch flattened into rows) and `W` a [`BsrMatrix`](crate::tensor::bsr::BsrMatrix)
//! `[N, K]` uploaded as a [`GpuBsrMatrix`], in f32, f16 (packed, any device) or int8 (W8A8, exact i32 accumulators).
//! The references are [`reference_bsr_matmul`](super::reference_bsr_matmul) and
//! [`reference_bsr_matmul_i8`](super::reference_bsr_matmul_i8).
//!
//! # Design
//!
//! Only stored blocks are read; the work is spread by a **work list** built once at upload
//! (`work_list.rs`): each block row's stored blocks are cut into chunks of at most
//! `8192 / (R·C)` consecutive blocks (8 to 512), so a full row becomes several chunks and an empty
//! row none, and no workgroup's load depends on how the pruning fell. Two passes are recorded into
//! the pending encoder:
//! 1. **Pass 1** writes each chunk's `R` partial sums per activation row into a scratch buffer
//!    (f32, or i32 for int8, which keeps the result exact):
//!    - the **GEMM** (`shaders/bsr_gemm.wgsl`, one 64-thread workgroup per chunk and 64-row tile
//!      of `X`) treats the chunk's blocks laid side by side as a small dense `R × gathered-K`
//!      matrix, staged 32 gathered columns at a time through workgroup memory; each thread owns
//!      4 consecutive rows (one vec4 load per column) and `R / 4` block rows, and for `R = 1`
//!      four thread groups split the columns. Each staged `x` value serves `R` block rows, so
//!      the GEMM pays off from 8-row blocks up; 4×4 and 1×32 blocks reuse `x` too little to
//!      beat a dense tiled GEMM at 75 % sparsity (their win is the GEMV's);
//!    - the **GEMV** (`shaders/bsr_gemv.wgsl`, one activation row per grid layer) gives each
//!      chunk a group of `clamp(R·C / 4, 32, 256)` threads, several groups per 256-thread
//!      workgroup, which streams the chunk's contiguous values with 16-byte (f32) or 8-byte
//!      (f16) coalesced loads, reads `x` through the cache, and sums lanes per block row in
//!      workgroup memory with two barriers. [`BsrKernel::Auto`] picks it for at most
//!      [`GEMV_MAX_ROWS`] rows.
//! 2. **Pass 2** (`shaders/bsr_reduce*.wgsl`) sums each output's chunk partials in chunk order
//!    (deterministic), applies the shared epilogue (bias, activation) and stores; a block row
//!    without blocks yields `act(bias)`. f16 outputs are written a whole word (two outputs) per
//!    thread, so no atomics are needed.
//!
//! Int8 uses `dot4_i8` (the `dot4I8Packed` builtin or the shift-unpacked fallback, [`Dot4Path`])
//! on packed words: for block widths `C ≥ 4` a block row's word meets the `X` word of the same
//! four `k`; for 32×1 blocks the GEMM packs four blocks' single columns into one word while
//! staging, and the GEMV multiplies sign-extended bytes by the one `x` value (a word there is
//! four output rows, not four `k`). The activation zero point is applied once per output in
//! pass 2: `Σ (x − x_zp)·w = Σ x·w − x_zp·Σ w`, with `Σ w` per row computed at upload.
//!
//! ```no_run
//! use kiln::device::Gpu;
//! use kiln::ops::sparse::bsr::{bsr_matmul, GpuBsrMatrix};
//! use kiln::ops::Activation;
//! use kiln::tensor::bsr::{BlockShape, BsrMatrix};
//! use kiln::tensor::GpuTensor;
//! # fn main() -> kiln::Result<()> {
//! let gpu = Gpu::from_env()?;
//! let dense: Vec<f32> = (0..64 * 64).map(|i| (i % 7) as f32 - 3.0).collect();
//! let pruned = BsrMatrix::prune_by_magnitude(&dense, 64, 64, BlockShape::B8x8, 0.75)?;
//! let w = GpuBsrMatrix::upload(&gpu, &pruned)?;
//! let x = GpuTensor::upload(&gpu, &[2, 64], &vec![1.0f32; 2 * 64])?;
//! let y = bsr_matmul(&gpu, &x, &w, None, Activation::Relu)?;
//! assert_eq!(y.shape(), [2, 64]);
//! # Ok(()) }
//! ```

mod launch;
mod matrix;
mod programs;
pub(crate) mod work_list;

pub use matrix::GpuBsrMatrix;
pub use programs::{
    BSR_GEMM_F16, BSR_GEMM_F32, BSR_GEMM_Q8_BUILTIN, BSR_GEMM_Q8_UNPACKED, BSR_GEMV_F16,
    BSR_GEMV_F32, BSR_GEMV_Q8_BUILTIN, BSR_GEMV_Q8_UNPACKED, BSR_REDUCE_F16, BSR_REDUCE_F32,
    BSR_REDUCE_Q8_F32, BSR_REDUCE_Q8_I32, PROGRAMS,
};

use launch::{BsrLaunch, Store};
use programs::{Operands, Pass1};

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::ops::matmul::int8::{check_k_limit, Dot4Path, GpuQ8Activations};
use crate::ops::matmul::tiled::check_bias;
use crate::ops::matmul::MatmulDims;
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

/// [`BsrKernel::Auto`] runs the GEMV for at most this many activation rows: below it the GEMM's
/// 64-row tile would be mostly idle, while the GEMV reads each row's weights once more, from
/// cache, per extra row.
pub const GEMV_MAX_ROWS: usize = 4;

/// Which pass-1 kernel computes the product.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BsrKernel {
    /// The GEMV for at most [`GEMV_MAX_ROWS`] activation rows, the GEMM otherwise.
    #[default]
    Auto,
    /// The tiled kernel (64 activation rows per workgroup), for any number of rows.
    Gemm,
    /// The weight-streaming kernel (one activation row per workgroup), for any number of rows.
    Gemv,
}

impl BsrKernel {
    /// The kernel that runs for `rows` activation rows.
    fn pass(self, rows: usize) -> Pass1 {
        match self {
            BsrKernel::Auto if rows <= GEMV_MAX_ROWS => Pass1::Gemv,
            BsrKernel::Auto | BsrKernel::Gemm => Pass1::Gemm,
            BsrKernel::Gemv => Pass1::Gemv,
        }
    }
}

/// `act(X · Wᵀ + bias)` with the kernel picked by [`BsrKernel::Auto`]. `x` is `[M, K]` or
/// `[batch, M, K]` in `W`'s dtype (f32, or f16 read as packed words on any device); `bias` is f32
/// `[N]`; the output has `x`'s dtype and shape `[M, N]` or `[batch, M, N]`.
///
/// Errors: int8 `W` is an [`Error::InvalidArgument`] (use [`bsr_matmul_q8`]), `x` of another
/// dtype an [`Error::DTypeMismatch`], a `K` or bias length that does not match `W` an
/// [`Error::ShapeMismatch`] (a non-f32 bias a [`Error::DTypeMismatch`]).
pub fn bsr_matmul(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuBsrMatrix,
    bias: Option<&GpuTensor>,
    activation: Activation,
) -> Result<GpuTensor> {
    bsr_matmul_with(gpu, x, w, bias, activation, BsrKernel::Auto)
}

/// [`bsr_matmul`] on the kernel chosen by the caller (tests run both on every shape).
pub fn bsr_matmul_with(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuBsrMatrix,
    bias: Option<&GpuTensor>,
    activation: Activation,
    kernel: BsrKernel,
) -> Result<GpuTensor> {
    const OP: &str = "bsr_matmul";
    let operands = match w.dtype() {
        DType::F32 => Operands::F32,
        DType::F16 => Operands::F16,
        other => {
            return Err(Error::InvalidArgument {
                op: OP,
                detail: format!(
                    "W holds {other} values; int8 BSR weights take Q8 activations \
                     (bsr_matmul_q8 or bsr_matmul_q8_i32)"
                ),
            })
        }
    };
    x.expect_dtype(OP, w.dtype())?;
    let dims = MatmulDims::infer(OP, x.shape(), &[w.rows(), w.cols()], true)?;
    check_bias(OP, bias, w.rows())?;
    let y = GpuTensor::uninit(gpu, &dims.output_shape(x.shape().len()), w.dtype())?;
    let rows = dims.batch * dims.m;
    let launch = BsrLaunch {
        w,
        x: x.buffer(),
        y: y.buffer(),
        rows,
        operands,
        pass: kernel.pass(rows),
    };
    let store = Store::Float {
        bias: bias.map(GpuTensor::buffer),
        activation,
    };
    launch::record(gpu, &launch, store)?;
    Ok(y)
}

/// The exact int32 accumulators `Σ_k (x − x_zp) · w_q` of int8 `W` and `x`, shaped `[M, N]` or
/// `[batch, M, N]`, kernel picked by [`BsrKernel::Auto`]. Reference:
/// [`reference_bsr_matmul_i8`](super::reference_bsr_matmul_i8).
///
/// Errors: float `W` is an [`Error::DTypeMismatch`], a `K` that differs from `W`'s an
/// [`Error::ShapeMismatch`], `K` above [`MAX_K`](crate::ops::matmul::int8::MAX_K) (where i32 could overflow) an
/// [`Error::InvalidArgument`], [`Dot4Path::Builtin`] on a device without it an
/// [`Error::MissingFeature`].
pub fn bsr_matmul_q8_i32(
    gpu: &Gpu,
    x: &GpuQ8Activations,
    w: &GpuBsrMatrix,
    path: Dot4Path,
) -> Result<GpuTensor> {
    bsr_matmul_q8_i32_with(gpu, x, w, path, BsrKernel::Auto)
}

/// [`bsr_matmul_q8_i32`] on the kernel chosen by the caller.
pub fn bsr_matmul_q8_i32_with(
    gpu: &Gpu,
    x: &GpuQ8Activations,
    w: &GpuBsrMatrix,
    path: Dot4Path,
    kernel: BsrKernel,
) -> Result<GpuTensor> {
    let store = Store::Q8I32 {
        a_zero_point: x.zero_point(),
    };
    launch_q8("bsr_matmul_q8_i32", gpu, x, w, (path, kernel), store)
}

/// The int8 product dequantized to f32: `act(x_scale · w_scale[n] · acc + bias[n])` with `acc`
/// as in [`bsr_matmul_q8_i32`] and `bias` f32 `[N]`, kernel picked by [`BsrKernel::Auto`].
/// Errors as [`bsr_matmul_q8_i32`], plus a bias that is not f32 `[N]`.
pub fn bsr_matmul_q8(
    gpu: &Gpu,
    x: &GpuQ8Activations,
    w: &GpuBsrMatrix,
    bias: Option<&GpuTensor>,
    activation: Activation,
    path: Dot4Path,
) -> Result<GpuTensor> {
    bsr_matmul_q8_with(gpu, x, w, bias, activation, path, BsrKernel::Auto)
}

/// [`bsr_matmul_q8`] on the kernel chosen by the caller.
pub fn bsr_matmul_q8_with(
    gpu: &Gpu,
    x: &GpuQ8Activations,
    w: &GpuBsrMatrix,
    bias: Option<&GpuTensor>,
    activation: Activation,
    path: Dot4Path,
    kernel: BsrKernel,
) -> Result<GpuTensor> {
    const OP: &str = "bsr_matmul_q8";
    check_bias(OP, bias, w.rows())?;
    let store = Store::Q8F32 {
        a_zero_point: x.zero_point(),
        a_scale: x.scale(),
        bias: bias.map(GpuTensor::buffer),
        activation,
    };
    launch_q8(OP, gpu, x, w, (path, kernel), store)
}

/// Checks int8 operands, then records both passes into a new output.
fn launch_q8(
    op: &'static str,
    gpu: &Gpu,
    x: &GpuQ8Activations,
    w: &GpuBsrMatrix,
    (path, kernel): (Dot4Path, BsrKernel),
    store: Store<'_>,
) -> Result<GpuTensor> {
    if w.dtype() != DType::I8 {
        let got = w.dtype();
        let expected = DType::I8;
        return Err(Error::DTypeMismatch { op, expected, got });
    }
    let x_shape = x.shape();
    let dims = MatmulDims::infer(op, &x_shape, &[w.rows(), w.cols()], true)?;
    check_k_limit(op, dims.k)?;
    path.check_supported(gpu)?;
    let dtype = match store {
        Store::Q8I32 { .. } => DType::I32,
        _ => DType::F32,
    };
    let y = GpuTensor::uninit(gpu, &dims.output_shape(x_shape.len()), dtype)?;
    let rows = dims.batch * dims.m;
    let launch = BsrLaunch {
        w,
        x: x.data(),
        y: y.buffer(),
        rows,
        operands: Operands::Q8(path),
        pass: kernel.pass(rows),
    };
    launch::record(gpu, &launch, store)?;
    Ok(y)
}
