//! f16 matmul: f16 A and B, f32 accumulation, f32 bias, f16 C, on the tiled core. Two paths
//! compute the same thing: [`F16Path::Native`] declares the operands as WGSL `f16` (needs
//! `SHADER_F16`), and [`F16Path::Packed`] reads the same bytes as `u32` words, two halves per word,
//! converting with `unpack2x16float` and `pack2x16float`, so it runs on any device.
//! Reference: [`reference_matmul_f16`], which widens the operands exactly and calls
//! [`reference_matmul`].

use std::sync::Once;

use half::f16;

use crate::device::{Gpu, ShaderProgram};
use crate::error::Result;
use crate::ops::matmul::dense::{launch_dense, DenseOperands, DenseProgram};
use crate::ops::matmul::tiled::{self, ACTIVATION_WGSL, EPILOGUE_WGSL, TILED_CORE_WGSL};
use crate::ops::matmul::{chunked, gemv};
use crate::ops::matmul::{reference_matmul, MatmulDims, MatmulOptions, MatmulReference};
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

/// `enable f16;`: the first part of every program that uses WGSL's `f16` type.
pub(crate) const ENABLE_F16_WGSL: &str = include_str!("../../../shaders/enable_f16.wgsl");
/// A as native f16 (also used by the int4-weight kernel).
pub(crate) const A_F16_WGSL: &str = include_str!("../../../shaders/matmul_a_f16.wgsl");
/// A as f16 packed two per `u32` (also used by the int4-weight kernel).
pub(crate) const A_F16_PACKED_WGSL: &str =
    include_str!("../../../shaders/matmul_a_f16_packed.wgsl");
/// C stored as native f16 (also used by the int4-weight kernel).
pub(crate) const C_F16_WGSL: &str = include_str!("../../../shaders/matmul_c_f16.wgsl");
/// C stored as f16 packed two per `u32`; its output must start zeroed, see [`new_f16_output`].
pub(crate) const C_F16_PACKED_WGSL: &str =
    include_str!("../../../shaders/matmul_c_f16_packed.wgsl");

/// f16 operands and output as WGSL `f16`: any shape; needs `SHADER_F16`.
pub const MATMUL_F16_NATIVE: ShaderProgram = ShaderProgram {
    name: "matmul_f16_native",
    parts: &[
        ENABLE_F16_WGSL,
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F16_WGSL,
        include_str!("../../../shaders/matmul_b_f16.wgsl"),
        C_F16_WGSL,
    ],
    needs_f16: true,
};

/// f16 operands and output packed two per `u32` word: any shape, any device.
pub const MATMUL_F16_PACKED: ShaderProgram = ShaderProgram {
    name: "matmul_f16_packed",
    parts: &[
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        TILED_CORE_WGSL,
        A_F16_PACKED_WGSL,
        include_str!("../../../shaders/matmul_b_f16_packed.wgsl"),
        C_F16_PACKED_WGSL,
    ],
    needs_f16: false,
};

/// The shader programs of this kernel family.
pub const PROGRAMS: &[&ShaderProgram] = &[&MATMUL_F16_NATIVE, &MATMUL_F16_PACKED];

/// How the f16 kernel reads and writes its operands. Both give the same results; tests run both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum F16Path {
    /// WGSL `f16` storage: needs the device's `SHADER_F16` feature.
    Native,
    /// Two f16 per `u32` word, converted with `unpack2x16float` / `pack2x16float`: any device.
    Packed,
}

impl F16Path {
    /// [`F16Path::Native`] when `gpu` has `SHADER_F16`, else [`F16Path::Packed`]. The first choice
    /// made in a process is logged.
    pub fn preferred(gpu: &Gpu) -> Self {
        let shader_f16 = gpu.capabilities().shader_f16;
        let path = if shader_f16 {
            F16Path::Native
        } else {
            F16Path::Packed
        };
        static LOGGED: Once = Once::new();
        LOGGED.call_once(|| {
            log::info!("f16 kernels use the {path:?} path (device SHADER_F16: {shader_f16})");
        });
        path
    }
}

/// Allocates an f16 output of `shape` for a kernel whose C store is `path`'s. The packed store ORs
/// each half into its word, so for [`F16Path::Packed`] the output is cleared first (recorded before
/// the dispatch that follows).
pub(crate) fn new_f16_output(gpu: &Gpu, shape: &[usize], path: F16Path) -> Result<GpuTensor> {
    let c = GpuTensor::uninit(gpu, shape, DType::F16)?;
    if path == F16Path::Packed {
        gpu.clear(c.buffer());
    }
    Ok(c)
}

/// Computes `act(A·B + bias)` like the GPU kernel: the f16 operands widened exactly to f32, then
/// [`reference_matmul`]. Compare with `tolerances(OutputPrecision::F16)`, which adds the output's
/// rounding to f16.
pub fn reference_matmul_f16(
    a: &[f16],
    b: &[f16],
    dims: &MatmulDims,
    bias: Option<&[f32]>,
    activation: Activation,
) -> MatmulReference {
    let a: Vec<f32> = a.iter().map(|value| value.to_f32()).collect();
    let b: Vec<f32> = b.iter().map(|value| value.to_f32()).collect();
    reference_matmul(&a, &b, dims, bias, activation)
}

/// `act(A·B + bias)` with f16 A and B, f32 bias and an f16 result, on the device's preferred path.
/// See [`MatmulDims`] for the accepted shapes.
///
/// ```no_run
/// use half::f16;
/// use kiln::{device::Gpu, ops::matmul::{f16::matmul_f16, MatmulOptions}, tensor::GpuTensor};
/// # fn main() -> kiln::Result<()> {
/// let gpu = Gpu::from_env()?;
/// let ones = vec![f16::ONE; 6];
/// let a = GpuTensor::upload(&gpu, &[2, 3], &ones)?;
/// let b = GpuTensor::upload(&gpu, &[3, 2], &ones)?;
/// let c = matmul_f16(&gpu, &a, &b, None, &MatmulOptions::default())?;
/// assert_eq!(c.read::<f16>(&gpu)?, vec![f16::from_f32(3.0); 4]);
/// # Ok(()) }
/// ```
pub fn matmul_f16(
    gpu: &Gpu,
    a: &GpuTensor,
    b: &GpuTensor,
    bias: Option<&GpuTensor>,
    options: &MatmulOptions,
) -> Result<GpuTensor> {
    matmul_f16_with_path(gpu, a, b, bias, options, F16Path::preferred(gpu))
}

/// [`matmul_f16`] on the path chosen by the caller. [`F16Path::Native`] on a device without
/// `SHADER_F16` is an [`Error::MissingFeature`](crate::Error::MissingFeature).
pub fn matmul_f16_with_path(
    gpu: &Gpu,
    a: &GpuTensor,
    b: &GpuTensor,
    bias: Option<&GpuTensor>,
    options: &MatmulOptions,
    path: F16Path,
) -> Result<GpuTensor> {
    const OP: &str = "matmul_f16";
    a.expect_dtype(OP, DType::F16)?;
    b.expect_dtype(OP, DType::F16)?;
    let dims = MatmulDims::infer(OP, a.shape(), b.shape(), options.b_transposed)?;
    tiled::check_bias(OP, bias, dims.n)?;
    if chunked::exceeds_binding(gpu, b) {
        let product =
            |a: &GpuTensor, b: &GpuTensor, bias: Option<&GpuTensor>, options: &MatmulOptions| {
                matmul_f16_with_path(gpu, a, b, bias, options, path)
            };
        return chunked::matmul_in_parts(gpu, [a, b], bias, options, &product);
    }
    let use_gemv = gemv::gemv_fits(gpu, &dims);
    let program = match (use_gemv, path) {
        (true, F16Path::Native) => DenseProgram::Gemv(&gemv::GEMV_F16_NATIVE),
        (true, F16Path::Packed) => DenseProgram::Gemv(&gemv::GEMV_F16_PACKED),
        (false, F16Path::Native) => DenseProgram::Tiled(&MATMUL_F16_NATIVE),
        (false, F16Path::Packed) => DenseProgram::Tiled(&MATMUL_F16_PACKED),
    };
    let shape = dims.output_shape(a.shape().len());
    let c = gemv::product_output(gpu, &shape, Some(path), use_gemv)?;
    launch_dense(
        gpu,
        program,
        &dims,
        options,
        DenseOperands { a, b, bias, c: &c },
    )?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_widens_f16_exactly() {
        // 1/3 is stored as 0.333251953125 in f16; the reference must use exactly that value.
        let dims = MatmulDims::infer("t", &[1, 2], &[2, 1], false).unwrap();
        let a = [f16::from_f32(2050.0), f16::from_f32(1.0 / 3.0)];
        let b = [f16::ONE, f16::from_f32(3.0)];
        let reference = reference_matmul_f16(&a, &b, &dims, Some(&[0.5]), Activation::Identity);
        assert_eq!(reference.output, vec![2050.0 + 3.0 * 0.333251953125 + 0.5]);
    }
}
