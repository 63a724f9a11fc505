//! Int4 weight-only matmul: `Y = act(A·Wᵀ + bias)` with f32 or f16 activations A (`[M, K]` or
//! `[batch, M, K]`) and int4 weights W (`[N, K]` in [`Q4Weights`]'s group-wise layout) shared by
//! every batch, dequantized inside the kernels. Two kernels compute it: the tiled GEMM core with an
//! int4 B loader, and a memory-bound GEMV for a single row, which [`matmul_q4`] picks when
//! `batch·M = 1`. Reference: [`reference_matmul_q4`].

mod gemv;
mod programs;

pub(crate) use programs::Q4_DECODE_WGSL;
pub use programs::{
    GEMV_Q4_F16_NATIVE, GEMV_Q4_F16_PACKED, GEMV_Q4_F32, MATMUL_Q4_F16_NATIVE,
    MATMUL_Q4_F16_PACKED, MATMUL_Q4_F32_SCALAR, MATMUL_Q4_F32_VEC4, PROGRAMS,
};

use programs::{gemv_program, tiled_program};

use crate::device::{Binding, Gpu, GpuBuffer, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::matmul::f16::F16Path;
use crate::ops::matmul::gemv::{choose_gemv, product_output, WeightKernel};
use crate::ops::matmul::reference::reference_weight_only;
use crate::ops::matmul::tiled::{self, TiledOperands};
use crate::ops::matmul::{MatmulDims, MatmulOptions, MatmulReference};
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor, Q4GroupSize, Q4Weights};

const OP: &str = "matmul_q4";

/// Computes `act(A·Wᵀ + bias)` like the GPU kernels: W dequantized exactly
/// ([`Q4Weights::dequantize`]), then [`reference_matmul`](crate::ops::matmul::reference_matmul) with B transposed. `a` is f32 (f16
/// activations widened exactly) with shape `a_shape`, `[M, K]` or `[batch, M, K]`; `bias` has one
/// value per output channel.
///
/// The dequantized weights are exactly the values the kernels compute, so the f32-accumulation
/// bound derived in [`reference`](crate::ops::matmul::reference) applies unchanged: compare with
/// `tolerances(OutputPrecision::F32)`, or `tolerances(OutputPrecision::F16)` for an f16 output.
pub fn reference_matmul_q4(
    a: &[f32],
    a_shape: &[usize],
    w: &Q4Weights,
    bias: Option<&[f32]>,
    activation: Activation,
) -> Result<MatmulReference> {
    reference_weight_only(
        OP,
        a,
        a_shape,
        [w.rows, w.cols],
        || w.dequantize(),
        bias,
        activation,
    )
}

/// [`Q4Weights`] on the GPU, in the three arrays the kernels read: the packed nibbles, the f16
/// scales two per `u32` and the zero points four per `u32`.
pub struct GpuQ4Weights {
    rows: usize,
    cols: usize,
    group_size: Q4GroupSize,
    groups_per_row: usize,
    nibbles: GpuBuffer,
    scales: GpuBuffer,
    zero_points: GpuBuffer,
}

impl GpuQ4Weights {
    /// Uploads `weights`, recorded in the pending encoder like every upload. Since the fields of
    /// [`Q4Weights`] are public, their lengths are checked first: arrays that disagree with the
    /// shape and group size are an [`Error::ShapeMismatch`].
    pub fn upload(gpu: &Gpu, weights: &Q4Weights) -> Result<Self> {
        check_layout(weights)?;
        Ok(GpuQ4Weights {
            rows: weights.rows,
            cols: weights.cols,
            group_size: weights.group_size,
            groups_per_row: weights.groups_per_row,
            nibbles: gpu.upload_bytes(bytemuck::cast_slice(&weights.packed))?,
            scales: gpu.upload_bytes(bytemuck::cast_slice(&weights.scales_packed()))?,
            zero_points: gpu.upload_bytes(bytemuck::cast_slice(&weights.zero_points_packed()))?,
        })
    }

    /// `[N, K]`: output channels, then the reduction length.
    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    /// The bytes these weights hold on the device: nibbles, scales and zero points.
    pub fn device_bytes(&self) -> u64 {
        self.nibbles.len_bytes() + self.scales.len_bytes() + self.zero_points.len_bytes()
    }

    /// The packed nibbles, eight per word, rows padded to whole groups.
    pub(crate) fn nibbles(&self) -> &GpuBuffer {
        &self.nibbles
    }

    /// The f16 scales, two per word.
    pub(crate) fn scales(&self) -> &GpuBuffer {
        &self.scales
    }

    /// The zero points, four per word.
    pub(crate) fn zero_points(&self) -> &GpuBuffer {
        &self.zero_points
    }

    /// Groups per row: `ceil(K / group size)`.
    pub(crate) fn groups_per_row(&self) -> usize {
        self.groups_per_row
    }

    /// Elements of `K` sharing one scale and zero point.
    pub fn group_size(&self) -> Q4GroupSize {
        self.group_size
    }
}

/// Checks that the arrays of `weights` have the lengths its shape and group size imply.
fn check_layout(weights: &Q4Weights) -> Result<()> {
    let group_len = weights.group_size.elements();
    let groups_per_row = weights.cols.div_ceil(group_len);
    let groups = weights.rows * groups_per_row;
    let words = groups * group_len / 8;
    let expected = [
        ("groups per row", groups_per_row, weights.groups_per_row),
        ("packed words", words, weights.packed.len()),
        ("scales", groups, weights.scales.len()),
        ("zero points", groups, weights.zero_points.len()),
    ];
    match expected.iter().find(|(_, want, got)| want != got) {
        None => Ok(()),
        Some((what, want, got)) => Err(Error::ShapeMismatch {
            op: "GpuQ4Weights::upload",
            detail: format!(
                "[{}, {}] weights in groups of {group_len} need {want} {what}, got {got}",
                weights.rows, weights.cols
            ),
        }),
    }
}

/// Which kernel [`matmul_q4_with`] runs: the GEMV or the tiled kernel.
pub type Q4Kernel = WeightKernel;

/// `act(A·Wᵀ + bias)` with int4 weights W `[N, K]` and f32 or f16 activations A (`[M, K]` or
/// `[batch, M, K]`); the output has A's dtype and shape `[M, N]` or `[batch, M, N]`. The bias is
/// f32 `[N]`. Runs the GEMV when `batch·M = 1`, the tiled kernel otherwise, and f16 on the device's
/// preferred [`F16Path`].
///
/// ```no_run
/// use kiln::ops::{matmul::int4::{matmul_q4, GpuQ4Weights}, Activation};
/// use kiln::{device::Gpu, tensor::{GpuTensor, Q4GroupSize, Q4Weights}};
/// # fn main() -> kiln::Result<()> {
/// let gpu = Gpu::from_env()?;
/// // Symmetric groups of 7.0 get scale 1 and q − zero point = 7: exact weights.
/// let weights = Q4Weights::quantize(&[7.0f32; 3 * 40], 3, 40, Q4GroupSize::G32, true)?;
/// let w = GpuQ4Weights::upload(&gpu, &weights)?;
/// let a = GpuTensor::upload(&gpu, &[1, 40], &[0.5f32; 40])?; // one row: the GEMV runs
/// let y = matmul_q4(&gpu, &a, &w, None, Activation::Relu)?;
/// assert_eq!(y.read::<f32>(&gpu)?, vec![140.0; 3]);
/// # Ok(()) }
/// ```
pub fn matmul_q4(
    gpu: &Gpu,
    a: &GpuTensor,
    w: &GpuQ4Weights,
    bias: Option<&GpuTensor>,
    activation: Activation,
) -> Result<GpuTensor> {
    matmul_q4_with(gpu, a, w, bias, activation, Q4Kernel::Auto, None)
}

/// [`matmul_q4`] with the kernel, and for f16 activations the [`F16Path`], chosen by the caller
/// (`None` takes [`F16Path::preferred`]; f32 activations ignore it). [`Q4Kernel::Gemv`] with
/// `batch·M ≠ 1` is an [`Error::InvalidArgument`]; [`F16Path::Native`] on a device without
/// `SHADER_F16` is an [`Error::MissingFeature`].
pub fn matmul_q4_with(
    gpu: &Gpu,
    a: &GpuTensor,
    w: &GpuQ4Weights,
    bias: Option<&GpuTensor>,
    activation: Activation,
    kernel: Q4Kernel,
    f16_path: Option<F16Path>,
) -> Result<GpuTensor> {
    let f16_path = match a.dtype() {
        DType::F32 => None,
        DType::F16 => Some(f16_path.unwrap_or_else(|| F16Path::preferred(gpu))),
        other => {
            return Err(Error::DTypeMismatch {
                op: OP,
                expected: DType::F32,
                got: other,
            })
        }
    };
    let dims = MatmulDims::infer(OP, a.shape(), &w.shape(), true)?;
    tiled::check_bias(OP, bias, dims.n)?;
    let max_workgroups = gpu.limits().max_compute_workgroups_per_dimension as usize;
    let use_gemv = choose_gemv(OP, kernel, &dims, a.shape(), max_workgroups)?;
    let shape = dims.output_shape(a.shape().len());
    let y = product_output(gpu, &shape, f16_path, use_gemv)?;
    let operands = Q4Operands {
        a: a.buffer(),
        w,
        bias: bias.map(GpuTensor::buffer),
        y: y.buffer(),
    };
    if use_gemv {
        gemv::launch_gemv(gpu, gemv_program(f16_path), operands, activation)?;
    } else {
        let program = tiled_program(dims.k, f16_path);
        launch_tiled_q4(gpu, program, &dims, operands, activation)?;
    }
    Ok(y)
}

/// The buffers of one int4 matmul.
struct Q4Operands<'a> {
    a: &'a GpuBuffer,
    w: &'a GpuQ4Weights,
    bias: Option<&'a GpuBuffer>,
    y: &'a GpuBuffer,
}

/// Records the tiled kernel: the shared launcher with W's scales and zero points as bindings 5 and
/// 6 and the group size as the `Q4_GROUP_SIZE` override (see `shaders/matmul_b_q4.wgsl`).
fn launch_tiled_q4(
    gpu: &Gpu,
    program: &ShaderProgram,
    dims: &MatmulDims,
    operands: Q4Operands<'_>,
    activation: Activation,
) -> Result<()> {
    let Q4Operands { a, w, bias, y } = operands;
    let operands = TiledOperands {
        a,
        b: &w.nibbles,
        bias,
        c: y,
        extra: vec![
            (5, Binding::Storage(&w.scales)),
            (6, Binding::Storage(&w.zero_points)),
        ],
        constants: vec![("Q4_GROUP_SIZE", w.group_size.elements() as f64)],
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
    use half::f16;

    #[test]
    fn reference_dequantizes_then_multiplies() {
        // W = [[9, 10, 7] − 8] · 0.5 = [0.5, 1, −0.5] and [[8, 8, 15] − 8] · 2 = [0, 0, 14];
        // A = [1, 2, 3]: A·Wᵀ = [1, 42], + bias [1, −50], ReLU: [2, 0].
        let scales = vec![f16::from_f32(0.5), f16::from_f32(2.0)];
        let q = [9, 10, 7, 8, 8, 15];
        let w = Q4Weights::from_parts(2, 3, Q4GroupSize::G32, &q, scales, vec![8, 8]).unwrap();
        let a = [1.0, 2.0, 3.0];
        let bias = [1.0, -50.0];
        let reference = reference_matmul_q4(&a, &[1, 3], &w, Some(&bias), Activation::Relu);
        assert_eq!(reference.unwrap().values(), vec![2.0, 0.0]);
    }

    #[test]
    fn layout_check_names_the_inconsistent_array() {
        let values = vec![0.5; 2 * 70];
        let weights = Q4Weights::quantize(&values, 2, 70, Q4GroupSize::G64, false).unwrap();
        assert!(check_layout(&weights).is_ok());
        let mut broken = weights.clone();
        broken.zero_points.push(8);
        let message = check_layout(&broken).unwrap_err().to_string();
        assert!(message.contains("need 4 zero points, got 5"), "{message}");
    }
}
