//! f16 convolution: f16 input, weight and output, f32 accumulation and bias, on the implicit GEMM
//! (every shape, depthwise and 1×1 included). As for the f16 matmul, [`F16Path::Native`] declares
//! the operands as WGSL `f16` (needs `SHADER_F16`) and [`F16Path::Packed`] reads the same bytes as
//! `u32` words on any device. Reference: [`reference_conv2d_f16`].

use half::f16;

use crate::device::Gpu;
use crate::error::Result;
use crate::ops::conv::programs::{CONV2D_F16_NATIVE, CONV2D_F16_PACKED};
use crate::ops::conv::{gemm, reference_conv2d, Conv2dParams};
use crate::ops::matmul::f16::{new_f16_output, F16Path};
use crate::ops::matmul::MatmulReference;
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

/// [`reference_conv2d`] on the f16 operands widened exactly to f32, as the kernels read them.
/// Compare with `tolerances(OutputPrecision::F16)`, which adds the output's rounding to f16.
pub fn reference_conv2d_f16(
    x: &[f16],
    x_shape: &[usize],
    w: &[f16],
    w_shape: &[usize],
    bias: Option<&[f32]>,
    params: &Conv2dParams,
    activation: Activation,
) -> Result<MatmulReference> {
    let widen = |values: &[f16]| values.iter().map(|v| v.to_f32()).collect::<Vec<_>>();
    reference_conv2d(
        &widen(x),
        x_shape,
        &widen(w),
        w_shape,
        bias,
        params,
        activation,
    )
}

/// `act(conv(x, w) + bias)` with f16 `x` and `w`, f32 `bias` and an f16 result, on the device's
/// preferred path ([`F16Path::preferred`]). Shapes as [`conv2d_f32`](crate::ops::conv::conv2d_f32).
pub fn conv2d_f16(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    bias: Option<&GpuTensor>,
    params: &Conv2dParams,
    activation: Activation,
) -> Result<GpuTensor> {
    conv2d_f16_with_path(gpu, x, w, bias, params, activation, F16Path::preferred(gpu))
}

/// [`conv2d_f16`] on the path chosen by the caller; [`F16Path::Native`] on a device without
/// `SHADER_F16` is an [`Error::MissingFeature`](crate::Error::MissingFeature).
pub fn conv2d_f16_with_path(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    bias: Option<&GpuTensor>,
    params: &Conv2dParams,
    activation: Activation,
    path: F16Path,
) -> Result<GpuTensor> {
    const OP: &str = "conv2d_f16";
    let dims = gemm::check_operands(OP, DType::F16, x, w, bias, params)?;
    let program = match path {
        F16Path::Native => &CONV2D_F16_NATIVE,
        F16Path::Packed => &CONV2D_F16_PACKED,
    };
    let y = new_f16_output(gpu, &dims.output_shape(), path)?;
    let operands = gemm::GemmOperands::dense((x, w, bias, &y));
    gemm::launch(gpu, program, &dims, params, operands, activation)?;
    Ok(y)
}
