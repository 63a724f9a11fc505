//! The GPU arms of the integer element-wise ops: QLinearAdd / QLinearMul, QLinearConcat (inputs
//! quantized as the output go to the layout Concat as they are, the others are requantized
//! first) and LookupTable. Scales and zero points are host constants (kernel parameters).

use crate::error::Result;
use crate::ops::layout;
use crate::ops::quantized_elementwise::{
    lookup_table as launch_lookup, qlinear_binary as launch_binary, requantize, QLinearBinaryOp,
    TensorQuantization,
};
use crate::runtime::gpu::args::{Args, Operand};
use crate::tensor::{DType, GpuTensor};

const QUANTIZED: [DType; 2] = [DType::I8, DType::U8];

/// QLinearAdd or QLinearMul `(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp)`.
pub(super) fn qlinear_binary(args: &Args<'_>, op: QLinearBinaryOp) -> Result<GpuTensor> {
    let a = args.tensor_of(0, &QUANTIZED)?;
    let b = args.tensor_of(3, &QUANTIZED)?;
    let a_quant = quantization(args, 1, "a")?;
    let b_quant = quantization(args, 4, "b")?;
    let y_quant = quantization(args, 6, "y")?;
    launch_binary(args.gpu, op, (a, &a_quant), (b, &b_quant), &y_quant)
}

/// QLinearConcat `(y_scale, y_zp, x0, x0_scale, x0_zp, x1, …)` along `axis`.
pub(super) fn qlinear_concat(args: &Args<'_>, axis: i64) -> Result<GpuTensor> {
    if args.len() < 5 || !(args.len() - 2).is_multiple_of(3) {
        return Err(args.invalid(format!(
            "QLinearConcat takes (y_scale, y_zero_point) and (x, scale, zero point) triples, not \
             {} inputs",
            args.len()
        )));
    }
    let y_quant = quantization(args, 0, "y")?;
    let parts = (2..args.len())
        .step_by(3)
        .map(|index| {
            let x = args.tensor_of(index, &QUANTIZED)?;
            let x_quant = quantization(args, index + 1, "x")?;
            Ok(if x_quant == y_quant {
                Operand::Borrowed(x)
            } else {
                Operand::Owned(requantize(args.gpu, x, &x_quant, &y_quant)?)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let tensors: Vec<&GpuTensor> = parts.iter().map(Operand::get).collect();
    layout::concat(args.gpu, &tensors, axis)
}

/// LookupTable `(x, table)` with x of `x_dtype`.
pub(super) fn lookup_table(args: &Args<'_>, x_dtype: DType) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &[x_dtype])?;
    let table = args.tensor_of(1, &QUANTIZED)?;
    launch_lookup(args.gpu, x, table)
}

/// The per-tensor quantization from the constant scale at `index` and zero point after it.
fn quantization(args: &Args<'_>, index: usize, what: &str) -> Result<TensorQuantization> {
    let scale_name = format!("{what}_scale");
    let zero_name = format!("{what}_zero_point");
    let scale = args.scalar(index, &scale_name)?;
    let zero_point = args.scalar(index + 1, &zero_name)?;
    let dtype = args
        .constant(index + 1, &zero_name)?
        .map(|zero| zero.dtype());
    let (Some(scale), Some(zero_point), Some(dtype)) = (scale, zero_point, dtype) else {
        return Err(args.invalid(format!("{scale_name} and {zero_name} are required")));
    };
    let quantization = TensorQuantization {
        scale: scale as f32,
        zero_point: zero_point as i32,
        dtype,
    };
    // Checked here too (the launchers check again) so that the error names the node.
    let op = args.node.op.name();
    quantization
        .check(op, what)
        .map_err(|error| args.invalid(error.to_string()))?;
    Ok(quantization)
}
