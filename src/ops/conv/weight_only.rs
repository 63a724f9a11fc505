//! Convolution with a weight that stays quantized (weight-only int8, [`conv2d_w8`], and int4,
//! [`conv2d_w4`]): the f32 implicit GEMM of [`mod@super::f32`] with the weight `[M,
//! C/groups·kH·kW]` read in its packed layout ([`GpuQ8Weights`], [`GpuQ4Weights`]) and dequantized
//! in registers by the A loader (`shaders/matmul_a_q8w.wgsl`, `shaders/matmul_a_q4.wgsl`). Any
//! group count, stride, padding and dilation; the bias and activation run in the NCHW store. The
//! weights they multiply by are exactly the layouts' own dequantization
//! ([`Q8Weights::dequantize`](crate::tensor::Q8Weights::dequantize),
//! [`Q4Weights::dequantize`](crate::tensor::Q4Weights::dequantize)), so the reference is
//! [`reference_conv2d`](super::reference_conv2d) with those, within the f32-accumulation bound.

use crate::device::{Binding, Gpu};
use crate::error::{Error, Result};
use crate::ops::conv::gemm::{self, GemmOperands};
use crate::ops::conv::params::ConvDims;
use crate::ops::conv::programs::{CONV2D_W4_F32, CONV2D_W8_F32};
use crate::ops::conv::Conv2dParams;
use crate::ops::matmul::int4::GpuQ4Weights;
use crate::ops::matmul::int8::GpuQ8Weights;
use crate::ops::matmul::tiled::{check_bias, to_u32};
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

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
    const OP: &str = "conv2d_w8";
    let dims = check_operands(OP, x, [w.n(), w.k()], weight_shape, bias, params)?;
    to_u32("conv int8 weight words", w.n() * w.k().div_ceil(4))?;
    let y = GpuTensor::uninit(gpu, &dims.output_shape(), DType::F32)?;
    let operands = GemmOperands {
        weight: w.data(),
        weight_extra: vec![
            (6, Binding::Storage(w.scales())),
            (7, Binding::Storage(w.zero_points())),
        ],
        weight_constants: Vec::new(),
        weight_groups_per_row: 0,
        x,
        bias,
        y: &y,
    };
    gemm::launch(gpu, &CONV2D_W8_F32, &dims, params, operands, activation)?;
    Ok(y)
}

/// [`conv2d_w8`] with the int4 weight `w` (`[M, C/groups·kH·kW]` in groups along `K`).
pub fn conv2d_w4(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuQ4Weights,
    weight_shape: &[usize],
    bias: Option<&GpuTensor>,
    params: &Conv2dParams,
    activation: Activation,
) -> Result<GpuTensor> {
    const OP: &str = "conv2d_w4";
    let dims = check_operands(OP, x, w.shape(), weight_shape, bias, params)?;
    let group_len = w.group_size().elements();
    to_u32(
        "conv int4 weight words",
        w.shape()[0] * w.groups_per_row() * group_len / 8,
    )?;
    let y = GpuTensor::uninit(gpu, &dims.output_shape(), DType::F32)?;
    let operands = GemmOperands {
        weight: w.nibbles(),
        weight_extra: vec![
            (6, Binding::Storage(w.scales())),
            (7, Binding::Storage(w.zero_points())),
        ],
        weight_constants: vec![("Q4_GROUP_SIZE", group_len as f64)],
        weight_groups_per_row: w.groups_per_row(),
        x,
        bias,
        y: &y,
    };
    gemm::launch(gpu, &CONV2D_W4_F32, &dims, params, operands, activation)?;
    Ok(y)
}

/// Checks `x` (f32), the bias and that a weight matrix of `[rows, cols]` is `weight_shape`
/// flattened, then returns the convolution's dimensions.
fn check_operands(
    op: &'static str,
    x: &GpuTensor,
    [rows, cols]: [usize; 2],
    weight_shape: &[usize],
    bias: Option<&GpuTensor>,
    params: &Conv2dParams,
) -> Result<ConvDims> {
    x.expect_dtype(op, DType::F32)?;
    let dims = params.dims(x.shape(), weight_shape)?;
    let k = dims.channels_per_group() * dims.kernel[0] * dims.kernel[1];
    if [rows, cols] != [dims.out_channels, k] {
        return Err(Error::ShapeMismatch {
            op,
            detail: format!(
                "quantized weights of [{rows}, {cols}] cannot be the weight {weight_shape:?} \
                 ([{}, {k}])",
                dims.out_channels
            ),
        });
    }
    check_bias(op, bias, dims.out_channels)?;
    Ok(dims)
}
