//! The GPU lowering of the integer-domain ops that are not convolutions: DynamicQuantizeLinear
//! MatMulInteger and QLinearMatMul.

use crate::error::Result;
use crate::ops::matmul::int8::{self, integer_weights, Dot4Path, GpuQ8Weights, Requantization};
use crate::ops::quantize::dynamic_quantize_linear;
use crate::ops::Activation;
use crate::runtime::gpu::args::Args;
use crate::tensor::{DType, GpuTensor};

/// DynamicQuantizeLinear `(x) -> (y, y_scale, y_zero_point)`, all on the device.
pub(super) fn dynamic_quantize(args: &Args<'_>) -> Result<Vec<GpuTensor>> {
    let x = args.tensor_of(0, &[DType::F32])?;
    Ok(dynamic_quantize_linear(args.gpu, x)?.into())
}

/// MatMulInteger `(a, b, a_zero_point?, b_zero_point?)` with a constant `b` (and `b_zero_point`),
/// which the int8 kernel takes as uploaded weights; `a` and its zero point are device tensors.
pub(super) fn matmul_integer(args: &Args<'_>) -> Result<GpuTensor> {
    let b = (args.constant(1, "MatMulInteger B")?).ok_or_else(|| {
        args.unsupported(
            "MatMulInteger with a B computed at run time (the GPU kernel takes B \
             as constant weights)"
                .into(),
        )
    })?;
    let b_zero_point = args.constant(3, "MatMulInteger b_zero_point")?;
    let weights =
        integer_weights(b, b_zero_point).map_err(|error| args.invalid(error.to_string()))?;
    let weights = GpuQ8Weights::upload(args.gpu, &weights)?;
    let a = args.tensor_of(0, &[DType::I8, DType::U8])?;
    let a_zero_point = args.optional_tensor(2)?;
    let path = Dot4Path::preferred(args.gpu);
    int8::matmul_integer(args.gpu, a, a_zero_point, &weights, path)
        .map_err(|error| args.invalid(error.to_string()))
}

/// QLinearMatMul with constant `b`, scales and output zero point (as the QDQ lowering and
/// onnxruntime's quantizer write it), its requantization in the kernel's store; `a` and its zero
/// point are device tensors.
pub(super) fn qlinear_matmul(args: &Args<'_>, activation: Activation) -> Result<GpuTensor> {
    let relu = match activation {
        Activation::Identity => false,
        Activation::Relu => true,
        other => return Err(args.unsupported(format!("QLinearMatMul with a fused {other:?}"))),
    };
    let constant = |index: usize, what: &str| {
        args.constant(index, what)?.ok_or_else(|| {
            args.unsupported(format!(
                "QLinearMatMul {what} computed at run time (the GPU kernel takes it as a constant)"
            ))
        })
    };
    let b = constant(3, "b")?;
    let b_zero_point = args.constant(5, "b_zero_point")?;
    let weights =
        integer_weights(b, b_zero_point).map_err(|error| args.invalid(error.to_string()))?;
    let n = weights.rows;
    let b_scales = match constant(4, "b_scale")?.to_f64_vec()[..] {
        [one] => vec![one as f32; n],
        ref per_column => per_column.iter().map(|&scale| scale as f32).collect(),
    };
    let y_zero_point = constant(7, "y_zero_point")?;
    let scalar = |index: usize, what: &str| {
        args.scalar(index, what)?
            .ok_or_else(|| args.unsupported(format!("QLinearMatMul {what} computed at run time")))
    };
    let mut requant = Requantization::new(
        scalar(1, "a_scale")? as f32,
        &b_scales,
        scalar(6, "y_scale")? as f32,
        scalar(7, "y_zero_point")? as i32,
        y_zero_point.dtype(),
    )
    .map_err(|error| args.invalid(error.to_string()))?;
    requant.relu = relu;
    requant.bias = (args.ints(8, "bias")?).map(|bias| bias.into_iter().map(|v| v as i32).collect());
    let weights = GpuQ8Weights::upload(args.gpu, &weights)?;
    let a = args.tensor_of(0, &[DType::I8, DType::U8])?;
    let a_zero_point = args.optional_tensor(2)?;
    let path = Dot4Path::preferred(args.gpu);
    int8::qlinear_matmul(args.gpu, a, a_zero_point, &weights, &requant, path)
        .map_err(|error| args.invalid(error.to_string()))
}
