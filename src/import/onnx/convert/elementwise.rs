//! Element-wise ops: unary math and activations, binary and variadic arithmetic, comparisons,
//! Not, Where, Cast and Clip (whose opset < 11 `min`/`max` attributes become inputs); binary ops
//! and comparisons of opset 6 broadcast as [`super::legacy`] aligns them.

use super::{Converter, NodeContext};
use crate::error::Result;
use crate::graph::{CompareOp, Op};
use crate::import::onnx::proto::data_type;
use crate::import::onnx::tensor::dtype_from_code;
use crate::ops::elementwise::{BinaryOp, UnaryOp, VariadicOp};
use crate::ops::PointwiseActivation;
use crate::tensor::HostTensor;

/// Sqrt, Exp, Log, Neg, Abs and the activations.
pub(super) fn unary(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    let attrs = &ctx.attrs;
    let activation = |activation| UnaryOp::Activation(activation);
    let unary = match ctx.op_type {
        "Sqrt" => UnaryOp::Sqrt,
        "Exp" => UnaryOp::Exp,
        "Log" => UnaryOp::Log,
        "Neg" => UnaryOp::Neg,
        "Abs" => UnaryOp::Abs,
        "Relu" => activation(PointwiseActivation::Relu),
        "Sigmoid" => activation(PointwiseActivation::Sigmoid),
        "Tanh" => activation(PointwiseActivation::Tanh),
        "HardSwish" => activation(PointwiseActivation::HardSwish),
        "Softplus" => activation(PointwiseActivation::Softplus),
        "LeakyRelu" => activation(PointwiseActivation::LeakyRelu {
            alpha: attrs.float_or("alpha", 0.01)?,
        }),
        "HardSigmoid" => activation(PointwiseActivation::HardSigmoid {
            alpha: attrs.float_or("alpha", 0.2)?,
            beta: attrs.float_or("beta", 0.5)?,
        }),
        _ => {
            let approximate = attrs.string_or("approximate", "none")?;
            if approximate != "none" {
                return Err(attrs.unsupported(
                    "approximate",
                    format!("is '{approximate}'; kiln computes the exact (erf) GELU only"),
                ));
            }
            activation(PointwiseActivation::Gelu)
        }
    };
    Ok(Op::Unary(unary))
}

fn binary_op(op_type: &str) -> BinaryOp {
    match op_type {
        "Add" => BinaryOp::Add,
        "Sub" => BinaryOp::Sub,
        "Mul" => BinaryOp::Mul,
        "Div" => BinaryOp::Div,
        _ => BinaryOp::Pow,
    }
}

/// Add, Sub, Mul, Div, Pow.
pub(super) fn binary(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 2)?;
    super::legacy::align_legacy_broadcast(ctx)?;
    Ok(Op::Binary(binary_op(ctx.op_type)))
}

/// Min, Max, Sum over any number of inputs; exactly two become a binary op.
pub(super) fn variadic(ctx: &mut NodeContext) -> Result<Op> {
    let count = ctx.input_count();
    ctx.expect_inputs(count.max(1), count)?;
    let op = match ctx.op_type {
        "Min" => VariadicOp::Min,
        "Max" => VariadicOp::Max,
        _ => VariadicOp::Sum,
    };
    Ok(if count == 2 {
        Op::Binary(op.binary())
    } else {
        Op::Variadic(op)
    })
}

/// Equal, Less, LessOrEqual, Greater, GreaterOrEqual.
pub(super) fn compare(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 2)?;
    super::legacy::align_legacy_broadcast(ctx)?;
    Ok(Op::Compare(match ctx.op_type {
        "Equal" => CompareOp::Equal,
        "Less" => CompareOp::Less,
        "LessOrEqual" => CompareOp::LessOrEqual,
        "Greater" => CompareOp::Greater,
        _ => CompareOp::GreaterOrEqual,
    }))
}

/// Not.
pub(super) fn not(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    Ok(Op::Not)
}

/// Where.
pub(super) fn select(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(3, 3)?;
    Ok(Op::Where)
}

/// Cast to one of kiln's dtypes.
pub(super) fn cast(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    let code = ctx
        .attrs
        .int("to")?
        .ok_or_else(|| ctx.attrs.invalid("to", "is required".into()))?;
    let to = i32::try_from(code)
        .ok()
        .and_then(dtype_from_code)
        .ok_or_else(|| {
            let name = i32::try_from(code).map_or_else(|_| code.to_string(), data_type::name);
            ctx.attrs.unsupported(
                "to",
                format!("is {name}; kiln casts to FLOAT, FLOAT16, INT8, UINT8, INT32, INT64, BOOL"),
            )
        })?;
    Ok(Op::Cast { to })
}

/// Clip; opset < 11 bounds (attributes) become f32 scalar inputs.
pub(super) fn clip(ctx: &mut NodeContext) -> Result<Op> {
    if ctx.opset >= 11 {
        ctx.expect_inputs(1, 3)?;
        return Ok(Op::Clip);
    }
    ctx.expect_inputs(1, 1)?;
    for (index, bound) in [(1, "min"), (2, "max")] {
        if let Some(value) = ctx.attrs.float(bound)? {
            ctx.add_constant_input(index, bound, HostTensor::from_f32(&[], vec![value])?);
        }
    }
    Ok(Op::Clip)
}

/// The element-wise family's converter of `op_type` (the family's list is the registry's).
pub(super) fn elementwise_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "Add" | "Sub" | "Mul" | "Div" | "Pow" => binary,
        "Min" | "Max" | "Sum" => variadic,
        "Clip" => clip,
        "Abs" | "Exp" | "Log" | "Neg" | "Sqrt" | "Relu" | "LeakyRelu" | "Sigmoid" | "Tanh" => unary,
        "HardSigmoid" | "HardSwish" | "Gelu" | "Softplus" => unary,
        _ => return None,
    })
}

/// The logic and conversion family's converter of `op_type`.
pub(super) fn convert_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "Equal" | "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual" => compare,
        "Not" => not,
        "Where" => select,
        "Cast" => cast,
        _ => return None,
    })
}
