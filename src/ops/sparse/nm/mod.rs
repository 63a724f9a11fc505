//! N:M-sparse matmul on the GPU: `Y = act(X · Wᵀ + bias)` with activations X (`[M, K]` or
//! `[batch, M, K]`, f32 or f16) and an N:M-sparse weight W `[N, K]` ([`NmSparseMatrix`]: 2:4, 1:4,
//! 2:8 or 4:8) with values of X's dtype, shared by every batch. Both kernels read only the kept
//! values and their packed positions, laid out as [`crate::tensor::nm_sparse`] describes: the
//! tiled GEMM core with an N:M B loader, which expands each 16-deep tile of W to dense in
//! workgroup memory, and a memory-bound GEMV for a single row, which gathers X at the kept
//! positions and does only `kept · K / group` multiply-adds per output. [`nm_matmul`] picks the
//! GEMV when `batch·M = 1`. Reference: [`reference_nm_matmul`](super::reference_nm_matmul).
//!
//! For finite activations both kernels agree with the reference within its derived f32 bound. A
//! NaN or infinite activation at a pruned position is where they differ: the tiled kernel
//! multiplies it by the tile's zero, giving NaN as the dense reference does, while the GEMV never
//! reads it.

mod gemv;
mod programs;

pub use programs::{
    GEMV_NM_F16_NATIVE, GEMV_NM_F16_PACKED, GEMV_NM_F32, MATMUL_NM_F16_NATIVE,
    MATMUL_NM_F16_PACKED, MATMUL_NM_F32_SCALAR, MATMUL_NM_F32_VEC4, PROGRAMS,
};

use programs::{gemv_program, tiled_program};

use crate::device::{Binding, Gpu, GpuBuffer, OverrideConstant, ShaderProgram};
use crate::error::Result;
use crate::ops::matmul::f16::F16Path;
use crate::ops::matmul::gemv::{choose_gemv, product_output, WeightKernel};
use crate::ops::matmul::tiled::{self, to_u32, TiledOperands};
use crate::ops::matmul::{MatmulDims, MatmulOptions};
use crate::ops::Activation;
use crate::tensor::nm_sparse::{NmPattern, NmSparseMatrix};
use crate::tensor::{DType, GpuTensor};

const OP: &str = "nm_matmul";

/// An [`NmSparseMatrix`] on the GPU: its kept values (f32, or f16 two per `u32` word) and its
/// packed position words, uploaded byte for byte in the layout the kernels read.
pub struct GpuNmMatrix {
    rows: usize,
    cols: usize,
    pattern: NmPattern,
    groups_per_row: usize,
    words_per_row: usize,
    dtype: DType,
    values: GpuBuffer,
    positions: GpuBuffer,
}

impl GpuNmMatrix {
    /// Checks `matrix` with [`NmSparseMatrix::validate`] (its fields are public, and the kernels
    /// trust the layout: a malformed one is an error here, not a wrong product later) and uploads
    /// it, recorded in the pending encoder like every upload.
    pub fn upload(gpu: &Gpu, matrix: &NmSparseMatrix) -> Result<Self> {
        matrix.validate()?;
        let slots_per_row = matrix.groups_per_row * matrix.pattern.kept;
        to_u32("N:M values", matrix.rows * slots_per_row)?;
        Ok(GpuNmMatrix {
            rows: matrix.rows,
            cols: matrix.cols,
            pattern: matrix.pattern,
            groups_per_row: matrix.groups_per_row,
            words_per_row: matrix.words_per_row,
            dtype: matrix.values.dtype(),
            values: gpu.upload_bytes(matrix.values_bytes())?,
            positions: gpu.upload_bytes(bytemuck::cast_slice(&matrix.indices))?,
        })
    }

    /// `[N, K]`: output channels, then the reduction length.
    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    /// The N:M pattern.
    pub fn pattern(&self) -> NmPattern {
        self.pattern
    }

    /// The values' dtype, [`DType::F32`] or [`DType::F16`]; activations must have the same.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The bytes this matrix holds on the device: its kept values and their positions.
    pub fn device_bytes(&self) -> u64 {
        self.values.len_bytes() + self.positions.len_bytes()
    }

    /// Kept values per row: `groups_per_row × kept`.
    fn slots_per_row(&self) -> usize {
        self.groups_per_row * self.pattern.kept
    }
}

/// The override constants of `pattern`, declared in `shaders/nm_positions.wgsl`.
fn pattern_constants(pattern: NmPattern) -> Vec<OverrideConstant> {
    vec![
        ("NM_KEPT", pattern.kept as f64),
        ("NM_GROUP", pattern.group as f64),
        ("NM_INDEX_BITS", pattern.index_bits() as f64),
        ("NM_FIELDS_PER_WORD", pattern.fields_per_word() as f64),
    ]
}

/// Which kernel [`nm_matmul_with`] runs: the GEMV or the tiled kernel.
pub type NmKernel = WeightKernel;

/// `act(X · Wᵀ + bias)` with an N:M-sparse weight W `[N, K]` and activations X (`[M, K]` or
/// `[batch, M, K]`) of W's dtype (f32 or f16); the output has X's dtype and shape `[M, N]` or
/// `[batch, M, N]`. The bias is f32 `[N]`. Runs the GEMV when `batch·M = 1`, the tiled kernel
/// otherwise, and f16 on the device's preferred [`F16Path`].
///
/// ```no_run
/// use kiln::ops::{sparse::nm::{nm_matmul, GpuNmMatrix}, Activation};
/// use kiln::tensor::nm_sparse::{NmPattern, NmSparseMatrix};
/// use kiln::{device::Gpu, tensor::GpuTensor};
/// # fn main() -> kiln::Result<()> {
/// let gpu = Gpu::from_env()?;
/// // Every group of four keeps 1.0 and 2.0: each row of W sums to 3 · 16 = 48 over K = 64.
/// let dense: Vec<f32> = (0..3 * 64).map(|i| [1.0, 0.0, 2.0, 0.0][i % 4]).collect();
/// let weights = NmSparseMatrix::from_dense(&dense, 3, 64, NmPattern::TWO_FOUR)?;
/// let w = GpuNmMatrix::upload(&gpu, &weights)?;
/// let x = GpuTensor::upload(&gpu, &[1, 64], &[0.5f32; 64])?; // one row: the GEMV runs
/// let y = nm_matmul(&gpu, &x, &w, None, Activation::Relu)?;
/// assert_eq!(y.read::<f32>(&gpu)?, vec![24.0; 3]);
/// # Ok(()) }
/// ```
pub fn nm_matmul(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuNmMatrix,
    bias: Option<&GpuTensor>,
    activation: Activation,
) -> Result<GpuTensor> {
    nm_matmul_with(gpu, x, w, bias, activation, NmKernel::Auto, None)
}

/// [`nm_matmul`] with the kernel, and for f16 the [`F16Path`], chosen by the caller (`None` takes
/// [`F16Path::preferred`]; f32 ignores it). Errors: X not f32 or f16, or not W's dtype, or a bias
/// that is not f32, is [`Error::DTypeMismatch`](crate::Error::DTypeMismatch); X's K differing from W's, X not of rank 2 or 3,
/// or a bias that is not `[N]`, [`Error::ShapeMismatch`](crate::Error::ShapeMismatch); [`NmKernel::Gemv`] with `batch·M ≠ 1`,
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument); [`F16Path::Native`] on a device without `SHADER_F16`,
/// [`Error::MissingFeature`](crate::Error::MissingFeature).
pub fn nm_matmul_with(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuNmMatrix,
    bias: Option<&GpuTensor>,
    activation: Activation,
    kernel: NmKernel,
    f16_path: Option<F16Path>,
) -> Result<GpuTensor> {
    x.expect_dtype(OP, w.dtype)?;
    let f16_path = match w.dtype {
        DType::F16 => Some(f16_path.unwrap_or_else(|| F16Path::preferred(gpu))),
        _ => None,
    };
    let dims = MatmulDims::infer(OP, x.shape(), &w.shape(), true)?;
    tiled::check_bias(OP, bias, dims.n)?;
    let max_workgroups = gpu.limits().max_compute_workgroups_per_dimension as usize;
    let use_gemv = choose_gemv(OP, kernel, &dims, x.shape(), max_workgroups)?;
    let shape = dims.output_shape(x.shape().len());
    let y = product_output(gpu, &shape, f16_path, use_gemv)?;
    let operands = NmOperands {
        x: x.buffer(),
        w,
        bias: bias.map(GpuTensor::buffer),
        y: y.buffer(),
    };
    if use_gemv {
        gemv::launch_gemv(gpu, gemv_program(f16_path), operands, activation)?;
    } else {
        let program = tiled_program(dims.k, f16_path);
        launch_tiled_nm(gpu, program, &dims, operands, activation)?;
    }
    Ok(y)
}

/// The buffers of one N:M matmul.
struct NmOperands<'a> {
    x: &'a GpuBuffer,
    w: &'a GpuNmMatrix,
    bias: Option<&'a GpuBuffer>,
    y: &'a GpuBuffer,
}

/// Records the tiled kernel: the shared launcher with W's values as B, its positions as binding
/// 5, `groups_per_row` as `b_groups_per_row` and the pattern as override constants (see
/// `shaders/matmul_b_nm.wgsl`).
fn launch_tiled_nm(
    gpu: &Gpu,
    program: &ShaderProgram,
    dims: &MatmulDims,
    operands: NmOperands<'_>,
    activation: Activation,
) -> Result<()> {
    let NmOperands { x, w, bias, y } = operands;
    let operands = TiledOperands {
        a: x,
        b: &w.values,
        bias,
        c: y,
        extra: vec![(5, Binding::Storage(&w.positions))],
        constants: pattern_constants(w.pattern),
    };
    let options = MatmulOptions {
        b_transposed: true,
        activation,
    };
    tiled::launch_tiled(gpu, program, dims, &options, operands, w.groups_per_row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_constants_follow_the_layout() {
        let constants = pattern_constants(NmPattern::FOUR_EIGHT);
        let values: Vec<f64> = constants.iter().map(|&(_, value)| value).collect();
        assert_eq!(values, vec![4.0, 8.0, 3.0, 10.0]);
    }
}
