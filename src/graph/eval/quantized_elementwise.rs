//! QLinearAdd / QLinearMul, QLinearConcat and LookupTable: their operands read and checked here,
//! the arithmetic in [`crate::ops::quantized_elementwise`]'s references.

use crate::error::Result;
use crate::graph::eval::args::{
    bad_value, expect_arity, expect_same_dtype, float_values, invalid, required, unsupported,
    Inputs,
};
use crate::graph::eval::element::tensor_from_i64;
use crate::graph::eval::layout;
use crate::ops::quantized_elementwise::{
    reference_lookup_table, reference_qlinear_binary, reference_requantize, QLinearBinaryOp,
    QuantizedOperand, TensorQuantization,
};
use crate::tensor::{DType, HostTensor};

/// QLinearAdd or QLinearMul `(a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale,
/// y_zero_point)`, every input given.
pub(crate) fn qlinear_binary(op: QLinearBinaryOp, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 8, 8)?;
    let (a, a_quant) = quantized_input(inputs, 0, "a")?;
    let (b, b_quant) = quantized_input(inputs, 3, "b")?;
    let y_quant = quantization(inputs, 6, "y")?;
    let a_operand = QuantizedOperand {
        values: &a,
        shape: required(inputs, 0)?.shape(),
        quantization: a_quant,
    };
    let b_operand = QuantizedOperand {
        values: &b,
        shape: required(inputs, 3)?.shape(),
        quantization: b_quant,
    };
    let (values, shape) = reference_qlinear_binary(op, &a_operand, &b_operand, &y_quant)?;
    let values = values.into_iter().map(i64::from);
    Ok(vec![tensor_from_i64(y_quant.dtype, &shape, values)?])
}

/// QLinearConcat `(y_scale, y_zero_point, x0, x0_scale, x0_zero_point, x1, …)` along `axis`: an
/// input quantized as the output is copied, the others requantized.
pub(crate) fn qlinear_concat(axis: i64, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 5, usize::MAX)?;
    if !(inputs.len() - 2).is_multiple_of(3) {
        return Err(invalid(format!(
            "QLinearConcat takes the output's scale and zero point and then (x, scale, zero \
             point) triples; got {} inputs",
            inputs.len()
        )));
    }
    let y_quant = quantization(inputs, 0, "y")?;
    let parts = (2..inputs.len())
        .step_by(3)
        .map(|index| {
            let x = required(inputs, index)?;
            let (values, x_quant) = quantized_input(inputs, index, "x")?;
            if x_quant == y_quant {
                return Ok(x.clone());
            }
            let operand = QuantizedOperand {
                values: &values,
                shape: x.shape(),
                quantization: x_quant,
            };
            let requantized = reference_requantize(&operand, &y_quant)?;
            tensor_from_i64(
                y_quant.dtype,
                x.shape(),
                requantized.into_iter().map(i64::from),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let part_refs: Vec<Option<&HostTensor>> = parts.iter().map(Some).collect();
    layout::concat(axis, &part_refs)
}

/// LookupTable `(x, table)` with x of `x_dtype`: `table[x − min(x_dtype)]`, in the table's
/// dtype.
pub(crate) fn lookup_table(x_dtype: DType, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 2)?;
    let (x, table) = (required(inputs, 0)?, required(inputs, 1)?);
    if x.dtype() != x_dtype {
        return Err(unsupported(format!(
            "x of type {} where the node says {x_dtype}",
            x.dtype()
        )));
    }
    let values = reference_lookup_table(
        &quantized_values(x, "x")?,
        x.dtype(),
        &quantized_values(table, "table")?,
    )?;
    let values = values.into_iter().map(i64::from);
    Ok(vec![tensor_from_i64(table.dtype(), x.shape(), values)?])
}

/// The values at `index` and the quantization from the scale and zero point after them.
fn quantized_input(
    inputs: Inputs,
    index: usize,
    what: &str,
) -> Result<(Vec<i32>, TensorQuantization)> {
    let x = required(inputs, index)?;
    expect_same_dtype(
        x,
        required(inputs, index + 2)?,
        &format!("{what}_zero_point"),
    )?;
    Ok((
        quantized_values(x, what)?,
        quantization(inputs, index + 1, what)?,
    ))
}

/// The per-tensor quantization from the scale at `index` and the zero point after it.
fn quantization(inputs: Inputs, index: usize, what: &str) -> Result<TensorQuantization> {
    let scale = float_values(required(inputs, index)?, &format!("{what}_scale"))?;
    let zero_point = required(inputs, index + 1)?;
    let zero = quantized_values(zero_point, &format!("{what}_zero_point"))?;
    if scale.len() != 1 || zero.len() != 1 {
        return Err(bad_value(format!(
            "{what}'s scale and zero point must be single values (per-tensor), not {} and {}",
            scale.len(),
            zero.len()
        )));
    }
    let quantization = TensorQuantization {
        scale: scale[0],
        zero_point: zero[0],
        dtype: zero_point.dtype(),
    };
    quantization.check("", what)?;
    Ok(quantization)
}

/// The values of an int8 or uint8 tensor as i32.
fn quantized_values(tensor: &HostTensor, what: &str) -> Result<Vec<i32>> {
    if !matches!(tensor.dtype(), DType::I8 | DType::U8) {
        return Err(unsupported(format!(
            "{what} of type {}; the integer element-wise ops take int8 and uint8",
            tensor.dtype()
        )));
    }
    Ok(tensor
        .to_i64_vec("quantized values")?
        .into_iter()
        .map(|value| value as i32)
        .collect())
}
