//! The CPU references of the integer element-wise ops: each computes, with the same f32
//! operations in the same order as `shaders/quantized_elementwise.wgsl` and
//! `shaders/quantized_lookup.wgsl`, what the GPU must reproduce bit for bit.

use super::{QLinearBinaryOp, Requantization, TensorQuantization};
use crate::error::{Error, Result};
use crate::ops::elementwise::{broadcast_output_shape, reference_offset};
use crate::tensor::shape::broadcast_strides;
use crate::tensor::DType;

/// An 8-bit quantized operand of a reference: its values (as i32, in its dtype's range), shape
/// and quantization.
#[derive(Clone, Copy, Debug)]
pub struct QuantizedOperand<'a> {
    /// The quantized values, row-major.
    pub values: &'a [i32],
    /// The operand's shape.
    pub shape: &'a [usize],
    /// Its scale, zero point and dtype.
    pub quantization: TensorQuantization,
}

/// `[min, max]` of an 8-bit dtype, or an error naming `op` for any other.
pub fn quantized_range(op: &'static str, dtype: DType) -> Result<(i32, i32)> {
    match dtype {
        DType::I8 => Ok((-128, 127)),
        DType::U8 => Ok((0, 255)),
        other => Err(Error::InvalidArgument {
            op,
            detail: format!("quantized values must be int8 or uint8, not {other}"),
        }),
    }
}

/// `saturate(round_half_even(value) + zero_point)` into `dtype`'s range: the last step of every
/// kernel here (`value` is finite: the multipliers are bounded).
pub fn saturate_rounded(value: f32, zero_point: i32, dtype: DType) -> i32 {
    let (low, high) = if dtype == DType::I8 {
        (-128.0, 127.0)
    } else {
        (0.0, 255.0)
    };
    (value.round_ties_even() + zero_point as f32).clamp(low, high) as i32
}

/// One output value of QLinearAdd/QLinearMul from the centred operands `a − a_zp`, `b − b_zp`.
pub fn binary_value(op: QLinearBinaryOp, requant: &Requantization, a: i32, b: i32) -> f32 {
    match op {
        QLinearBinaryOp::Add => a as f32 * requant.a_multiplier + b as f32 * requant.b_multiplier,
        QLinearBinaryOp::Mul => (a * b) as f32 * requant.a_multiplier,
    }
}

/// QLinearAdd or QLinearMul of `a` and `b` (numpy broadcasting) requantized to `output`:
/// returns the output values (as i32) and shape.
pub fn reference_qlinear_binary(
    op: QLinearBinaryOp,
    a: &QuantizedOperand<'_>,
    b: &QuantizedOperand<'_>,
    output: &TensorQuantization,
) -> Result<(Vec<i32>, Vec<usize>)> {
    let name = op.name();
    check_operand(name, "a", a)?;
    check_operand(name, "b", b)?;
    output.check(name, "y")?;
    let requant =
        Requantization::binary(op, a.quantization.scale, b.quantization.scale, output.scale);
    let shape = broadcast_output_shape(name, &[a.shape, b.shape])?;
    let a_strides = broadcast_strides(a.shape, &shape);
    let b_strides = broadcast_strides(b.shape, &shape);
    let count: usize = shape.iter().product();
    let values = (0..count)
        .map(|index| {
            let a_value =
                a.values[reference_offset(index, &shape, &a_strides)] - a.quantization.zero_point;
            let b_value =
                b.values[reference_offset(index, &shape, &b_strides)] - b.quantization.zero_point;
            let value = binary_value(op, &requant, a_value, b_value);
            saturate_rounded(value, output.zero_point, output.dtype)
        })
        .collect();
    Ok((values, shape))
}

/// `x` requantized to `output`: `saturate(round((x − x_zp)·(x_scale / y_scale)) + y_zp)`.
pub fn reference_requantize(
    x: &QuantizedOperand<'_>,
    output: &TensorQuantization,
) -> Result<Vec<i32>> {
    const OP: &str = "requantize";
    check_operand(OP, "x", x)?;
    output.check(OP, "y")?;
    let requant = Requantization::single(x.quantization.scale, output.scale);
    Ok(x.values
        .iter()
        .map(|&value| {
            let centred = (value - x.quantization.zero_point) as f32 * requant.a_multiplier;
            saturate_rounded(centred, output.zero_point, output.dtype)
        })
        .collect())
}

/// `table[x − min(x's dtype)]` for each element of `x` (`x_dtype` `I8` or `U8`, 256 entries).
pub fn reference_lookup_table(x: &[i32], x_dtype: DType, table: &[i32]) -> Result<Vec<i32>> {
    const OP: &str = "lookup_table";
    let (low, high) = quantized_range(OP, x_dtype)?;
    if table.len() != 256 {
        return Err(Error::ShapeMismatch {
            op: OP,
            detail: format!("the table has {} entries, not 256", table.len()),
        });
    }
    x.iter()
        .map(|&value| {
            if !(low..=high).contains(&value) {
                return Err(Error::InvalidArgument {
                    op: OP,
                    detail: format!("{value} is not a {x_dtype} value"),
                });
            }
            Ok(table[(value - low) as usize])
        })
        .collect()
}

fn check_operand(op: &'static str, what: &str, operand: &QuantizedOperand<'_>) -> Result<()> {
    operand.quantization.check(op, what)?;
    let expected: usize = operand.shape.iter().product();
    if operand.values.len() != expected {
        return Err(Error::ShapeMismatch {
            op,
            detail: format!(
                "{what} has {} values for shape {:?}",
                operand.values.len(),
                operand.shape
            ),
        });
    }
    Ok(())
}
