//! The GPU lowering of the integer-domain ops that are not convolutions: DynamicQuantizeLinear
//! and MatMulInteger.

use crate::error::Result;
use crate::ops::matmul::int8::{self, integer_weights, Dot4Path, GpuQ8Weights};
use crate::ops::quantize::dynamic_quantize_linear;
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
