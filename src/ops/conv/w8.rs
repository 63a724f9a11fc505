//! Convolution with a weight that stays int8 (weight-only, W8A32): the f32 implicit GEMM of
//! [`mod@super::f32`] with the weight read as [`GpuQ8Weights`] (`[M, C/groups·kH·kW]`, four
//! values per word, a scale and zero point per output channel) and dequantized in registers by the
//! A loader (`shaders/matmul_a_q8w.wgsl`). Any group count, stride, padding and dilation; the bias
//! and activation run in the NCHW store. The weights it multiplies by are exactly
//! [`Q8Weights::dequantize`](crate::tensor::Q8Weights::dequantize)'s, so the reference is
//! [`reference_conv2d`](super::reference_conv2d) with those, within the f32-accumulation bound.

use crate::device::{Binding, Gpu};
use crate::error::{Error, Result};
use crate::ops::conv::gemm::{self, GemmOperands};
use crate::ops::conv::programs::CONV2D_W8_F32;
use crate::ops::conv::Conv2dParams;
use crate::ops::matmul::int8::GpuQ8Weights;
use crate::ops::matmul::tiled::{check_bias, to_u32};
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

const OP: &str = "conv2d_w8";

/// `act(conv(x, W) + bias)` in f32 on the GPU with the int8 weight `w` of logical shape
/// `weight_shape` `[M, C/groups, kH, kW]` (`w` is `[M, C/groups·kH·kW]`): `x` `[N, C, H, W]` f32,
/// `bias` f32 `[M]`, result `[N, M, OH, OW]`.
pub fn conv2d_w8(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuQ8Weights,
    weight_shape: &[usize],
    bias: Option<&GpuTensor>,
    params: &Conv2dParams,
    activation: Activation,
) -> Result<GpuTensor> {
    x.expect_dtype(OP, DType::F32)?;
    let dims = params.dims(x.shape(), weight_shape)?;
    let k = dims.channels_per_group() * dims.kernel[0] * dims.kernel[1];
    if [w.n(), w.k()] != [dims.out_channels, k] {
        return Err(Error::ShapeMismatch {
            op: OP,
            detail: format!(
                "int8 weights of [{}, {}] cannot be the weight {weight_shape:?} ([{}, {k}])",
                w.n(),
                w.k(),
                dims.out_channels
            ),
        });
    }
    check_bias(OP, bias, dims.out_channels)?;
    to_u32("conv int8 weight words", w.n() * w.k().div_ceil(4))?;
    let y = GpuTensor::uninit(gpu, &dims.output_shape(), DType::F32)?;
    let operands = GemmOperands {
        weight: w.data(),
        weight_extra: vec![
            (6, Binding::Storage(w.scales())),
            (7, Binding::Storage(w.zero_points())),
        ],
        x,
        bias,
        y: &y,
    };
    gemm::launch(gpu, &CONV2D_W8_F32, &dims, params, operands, activation)?;
    Ok(y)
}
