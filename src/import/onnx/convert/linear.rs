//! Products and quantization: MatMul, Gemm, MatMulInteger, QuantizeLinear, DequantizeLinear.

use super::{Converter, NodeContext};
use crate::error::Result;
use crate::graph::Op;
use crate::import::onnx::proto::data_type;
use crate::ops::Activation;

/// MatMul.
pub(super) fn matmul(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 2)?;
    Ok(Op::MatMul {
        activation: Activation::Identity,
    })
}

/// Gemm: `alpha`, `beta` default 1, no transposes.
pub(super) fn gemm(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 3)?;
    let attrs = &ctx.attrs;
    Ok(Op::Gemm {
        alpha: attrs.float_or("alpha", 1.0)?,
        beta: attrs.float_or("beta", 1.0)?,
        trans_a: attrs.bool_or("transA", false)?,
        trans_b: attrs.bool_or("transB", false)?,
        activation: Activation::Identity,
    })
}

/// MatMulInteger.
pub(super) fn matmul_integer(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 4)?;
    Ok(Op::MatMulInteger)
}

/// QuantizeLinear: per-tensor or per-axis (`axis`, default 1), int8 or uint8 output.
pub(super) fn quantize(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 3)?;
    reject_blocks(ctx)?;
    reject_non_f32(ctx, "precision")?;
    let output_dtype = ctx.attrs.int_or("output_dtype", 0)?;
    let zero_point_sets_type = ctx.has_input(2);
    let plain_output = output_dtype == 0
        || output_dtype == i64::from(data_type::UINT8)
        || (zero_point_sets_type && output_dtype == i64::from(data_type::INT8));
    if !plain_output {
        return Err(ctx.attrs.unsupported(
            "output_dtype",
            format!(
                "is {output_dtype}; kiln quantizes to UINT8, or to the zero point's INT8/UINT8"
            ),
        ));
    }
    Ok(Op::QuantizeLinear {
        axis: ctx.attrs.int_or("axis", 1)?,
        saturate: ctx.attrs.bool_or("saturate", true)?,
    })
}

/// DequantizeLinear: per-tensor or per-axis, to f32.
pub(super) fn dequantize(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 3)?;
    reject_blocks(ctx)?;
    reject_non_f32(ctx, "output_dtype")?;
    Ok(Op::DequantizeLinear {
        axis: ctx.attrs.int_or("axis", 1)?,
    })
}

/// Opset 21 blocked quantization has no place in [`Op`]'s attributes.
fn reject_blocks(ctx: &NodeContext) -> Result<()> {
    match ctx.attrs.int_or("block_size", 0)? {
        0 => Ok(()),
        size => Err(ctx.attrs.unsupported(
            "block_size",
            format!("is {size}; kiln imports per-tensor and per-axis scales"),
        )),
    }
}

/// Opset 23 `precision` (QuantizeLinear) and `output_dtype` (DequantizeLinear): kiln computes
/// in f32, so only unset (0) or FLOAT is accepted.
fn reject_non_f32(ctx: &NodeContext, attr: &str) -> Result<()> {
    match ctx.attrs.int_or(attr, 0)? {
        0 => Ok(()),
        code if code == i64::from(data_type::FLOAT) => Ok(()),
        code => Err(ctx.attrs.unsupported(
            attr,
            format!("is {code}; kiln computes quantization in FLOAT"),
        )),
    }
}

/// The matrix-product family's converter of `op_type`.
pub(super) fn matmul_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "MatMul" => matmul,
        "Gemm" => gemm,
        "MatMulInteger" => matmul_integer,
        _ => return None,
    })
}

/// The quantization family's converter of `op_type` (QLinearConv reads conv attributes).
pub(super) fn quantize_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "QuantizeLinear" => quantize,
        "DequantizeLinear" => dequantize,
        "QLinearConv" => super::conv::qlinear_conv,
        _ => return None,
    })
}
