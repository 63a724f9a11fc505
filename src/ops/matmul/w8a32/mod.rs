//! Weight-only int8 matmul (W8A32): `Y = act(A·Wᵀ + bias)` with f32 or f16 activations A (`[M, K]`
//! or `[batch, M, K]`) and int8 weights W (`[N, K]` in [`Q8Weights`]'s layout: four values per
//! `u32`, one f32 scale and one zero point per output row, a per-tensor quantization repeating
//! them) shared by every batch, dequantized in registers with f32 accumulation. The device holds
//! the weights in a quarter of their f32 bytes plus 12 bytes per row ([`GpuQ8Weights`], the same
//! upload the W8A8 kernel reads). Two kernels compute it: the tiled GEMM core with an int8 B
//! loader, and the dense GEMV with an int8 weight file for a single row, which [`matmul_w8`] picks
//! when `batch·M = 1`. Reference: [`reference_matmul_w8`].
//!
//! Uint8 weights are the int8 ones shifted by −128 with their zero points
//! ([`crate::graph::PackedMatrix::Q8`]), so the same kernels run them.

mod programs;

pub(crate) use programs::Q8_DECODE_WGSL;
pub use programs::{
    GEMV_W8_F16_NATIVE, GEMV_W8_F16_PACKED, GEMV_W8_F32, MATMUL_W8_F16_NATIVE,
    MATMUL_W8_F16_PACKED, MATMUL_W8_F32_SCALAR, MATMUL_W8_F32_VEC4, PROGRAMS,
};

use programs::{gemv_program, tiled_program};

use crate::device::{Binding, Gpu};
use crate::error::{Error, Result};
use crate::ops::matmul::f16::F16Path;
use crate::ops::matmul::gemv::WeightKernel;
use crate::ops::matmul::gemv::{choose_gemv, launch_dense_gemv, product_output, GemvOperands};
use crate::ops::matmul::int8::GpuQ8Weights;
use crate::ops::matmul::reference::reference_weight_only;
use crate::ops::matmul::tiled::{self, TiledOperands};
use crate::ops::matmul::{MatmulDims, MatmulOptions, MatmulReference};
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor, Q8Weights};

const OP: &str = "matmul_w8";

/// Computes `act(A·Wᵀ + bias)` like the GPU kernels: W dequantized exactly as the kernels do it
/// ([`Q8Weights::dequantize`]: `(q − zero_point)` times the row's scale, one f32 rounding), then
/// [`reference_matmul`](crate::ops::matmul::reference_matmul) with B transposed. `a` is f32 (f16 activations widened exactly) with shape
/// `a_shape`, `[M, K]` or `[batch, M, K]`; `bias` has one value per output channel.
///
/// Since the kernels' dequantized weights equal these bit for bit, the f32-accumulation bound
/// derived in [`reference`](crate::ops::matmul::reference) applies unchanged: compare with
/// `tolerances(OutputPrecision::F32)`, or `tolerances(OutputPrecision::F16)` for an f16 output.
pub fn reference_matmul_w8(
    a: &[f32],
    a_shape: &[usize],
    w: &Q8Weights,
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

/// Which kernel [`matmul_w8_with`] runs: the GEMV or the tiled kernel.
pub type W8Kernel = WeightKernel;

/// `act(A·Wᵀ + bias)` with int8 weights W `[N, K]` and f32 or f16 activations A (`[M, K]` or
/// `[batch, M, K]`); the output has A's dtype and shape `[M, N]` or `[batch, M, N]`. The bias is
/// f32 `[N]`. Runs the GEMV when `batch·M = 1`, the tiled kernel otherwise, and f16 on the device's
/// preferred [`F16Path`].
///
/// ```no_run
/// use kiln::ops::{matmul::{int8::GpuQ8Weights, w8a32::matmul_w8}, Activation};
/// use kiln::{device::Gpu, tensor::{GpuTensor, Q8Scheme, Q8Weights}};
/// # fn main() -> kiln::Result<()> {
/// let gpu = Gpu::from_env()?;
/// // Symmetric rows of 127.0 get scale 1: exact weights.
/// let weights = Q8Weights::quantize(&[127.0f32; 3 * 40], 3, 40, Q8Scheme::Symmetric)?;
/// let w = GpuQ8Weights::upload(&gpu, &weights)?;
/// let a = GpuTensor::upload(&gpu, &[1, 40], &[0.5f32; 40])?; // one row: the GEMV runs
/// let y = matmul_w8(&gpu, &a, &w, None, Activation::Relu)?;
/// assert_eq!(y.read::<f32>(&gpu)?, vec![2540.0; 3]);
/// # Ok(()) }
/// ```
pub fn matmul_w8(
    gpu: &Gpu,
    a: &GpuTensor,
    w: &GpuQ8Weights,
    bias: Option<&GpuTensor>,
    activation: Activation,
) -> Result<GpuTensor> {
    matmul_w8_with(gpu, a, w, bias, activation, W8Kernel::Auto, None)
}

/// [`matmul_w8`] with the kernel, and for f16 activations the [`F16Path`], chosen by the caller
/// (`None` takes [`F16Path::preferred`]; f32 activations ignore it). [`W8Kernel::Gemv`] with
/// `batch·M ≠ 1` is an [`Error::InvalidArgument`]; [`F16Path::Native`] on a device without
/// `SHADER_F16` is an [`Error::MissingFeature`].
pub fn matmul_w8_with(
    gpu: &Gpu,
    a: &GpuTensor,
    w: &GpuQ8Weights,
    bias: Option<&GpuTensor>,
    activation: Activation,
    kernel: W8Kernel,
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
    let dims = MatmulDims::infer(OP, a.shape(), &[w.n(), w.k()], true)?;
    tiled::check_bias(OP, bias, dims.n)?;
    tiled::to_u32("W8 weight words", w.n() * w.k().div_ceil(4))?;
    let max_workgroups = gpu.limits().max_compute_workgroups_per_dimension as usize;
    let use_gemv = choose_gemv(OP, kernel, &dims, a.shape(), max_workgroups)?;
    let y = product_output(gpu, &dims.output_shape(a.shape().len()), f16_path, use_gemv)?;
    let bias = bias.map(GpuTensor::buffer);
    let extra = vec![
        (5, Binding::Storage(w.scales())),
        (6, Binding::Storage(w.zero_points())),
    ];
    if use_gemv {
        let operands = GemvOperands {
            a: a.buffer(),
            w: w.data(),
            bias,
            y: y.buffer(),
            extra,
        };
        launch_dense_gemv(gpu, gemv_program(f16_path), &dims, operands, activation)?;
    } else {
        let operands = TiledOperands {
            a: a.buffer(),
            b: w.data(),
            bias,
            c: y.buffer(),
            extra,
            constants: Vec::new(),
        };
        let options = MatmulOptions {
            b_transposed: true,
            activation,
        };
        let program = tiled_program(dims.k, f16_path);
        tiled::launch_tiled(gpu, program, &dims, &options, operands, 0)?;
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_dequantizes_with_each_rows_scale_and_zero_point() {
        // Row 0: (q − 1)·0.5 for q = [3, −1, 1] is [1, −1, 0]; row 1: (q + 128)·0.25 for
        // q = [−128, 127, −124] is [0, 63.75, 1]. A = [1, 2, 3]: A·Wᵀ = [−1, 130.5], + bias
        // [0.5, −0.5], ReLU: [0, 130].
        let data = [3, -1, 1, -128, 127, -124];
        let w = Q8Weights::from_parts(2, 3, &data, vec![0.5, 0.25], vec![1, -128]).unwrap();
        let reference = reference_matmul_w8(
            &[1.0, 2.0, 3.0],
            &[1, 3],
            &w,
            Some(&[0.5, -0.5]),
            Activation::Relu,
        );
        assert_eq!(reference.unwrap().values(), vec![0.0, 130.0]);
    }

    #[test]
    fn reference_checks_the_activations_and_bias_lengths() {
        let w = Q8Weights::from_parts(1, 2, &[1, 2], vec![1.0], vec![0]).unwrap();
        let short = reference_matmul_w8(&[1.0], &[1, 2], &w, None, Activation::Identity);
        assert!(matches!(short, Err(Error::ShapeMismatch { .. })));
        let bias = reference_matmul_w8(&[1.0, 2.0], &[1, 2], &w, Some(&[]), Activation::Identity);
        assert!(matches!(bias, Err(Error::ShapeMismatch { .. })));
    }
}
