//! QLinearAveragePool and QLinearGlobalAveragePool on the GPU backend: the constant scales and
//! zero points read from the node (zero points of `x`'s dtype, 0 when omitted), then the
//! launchers of [`crate::ops::pooling`]. A launcher's error (a bad scale or zero point, a window
//! too large) is placed at the node.

use crate::error::{Error, Result};
use crate::graph::PoolAttrs;
use crate::ops::pooling::{self, QLinearPoolQuant};
use crate::runtime::gpu::args::Args;
use crate::runtime::gpu::conv::pool_options;
use crate::tensor::{DType, GpuTensor};

/// QLinearAveragePool of an NCHW int8 or uint8 tensor.
pub(super) fn qlinear_average_pool(args: &Args<'_>, attrs: &PoolAttrs) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &[DType::I8, DType::U8])?;
    let quant = quantization(args, x.dtype())?;
    let options = pool_options(args, attrs, x.shape())?;
    pooling::qlinear_average_pool2d(args.gpu, x, &options, &quant).map_err(|e| at_node(args, e))
}

/// QLinearGlobalAveragePool of an int8 or uint8 tensor of rank ≥ 3.
pub(super) fn qlinear_global_average_pool(args: &Args<'_>) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &[DType::I8, DType::U8])?;
    let quant = quantization(args, x.dtype())?;
    pooling::qlinear_global_average_pool(args.gpu, x, &quant).map_err(|e| at_node(args, e))
}

/// The node's scales (inputs 1 and 3) and zero points (2 and 4), checked against `dtype`.
fn quantization(args: &Args<'_>, dtype: DType) -> Result<QLinearPoolQuant> {
    let scale = |index: usize, what: &str| -> Result<f32> {
        let value = args.scalar(index, what)?;
        value
            .map(|value| value as f32)
            .ok_or_else(|| args.invalid(format!("{what} is required")))
    };
    let zero_point = |index: usize, what: &str| -> Result<i32> {
        match args.constant(index, what)? {
            None => Ok(0),
            Some(zero) if zero.dtype() == dtype => {
                Ok(args.scalar(index, what)?.unwrap_or(0.0) as i32)
            }
            Some(zero) => Err(args.invalid(format!("{what} is {} but x is {dtype}", zero.dtype()))),
        }
    };
    let quant = QLinearPoolQuant {
        input_scale: scale(1, "x_scale")?,
        input_zero_point: zero_point(2, "x_zero_point")?,
        output_scale: scale(3, "y_scale")?,
        output_zero_point: zero_point(4, "y_zero_point")?,
        dtype,
    };
    quant.check().map_err(|e| at_node(args, e))?;
    Ok(quant)
}

/// A launcher's complaint about the node's values (a scale, zero point, dtype or window) placed at
/// the node; device errors pass through as they are.
fn at_node(args: &Args<'_>, error: Error) -> Error {
    match error {
        Error::InvalidArgument { .. }
        | Error::LimitExceeded { .. }
        | Error::DTypeMismatch { .. }
        | Error::ShapeMismatch { .. } => args.invalid(error.to_string()),
        other => other,
    }
}
