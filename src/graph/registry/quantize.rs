//! The quantization family: QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul and
//! DynamicQuantizeLinear.

use super::{not_in_family, FamilySpec, OnnxOp, OnnxOutputs};
use crate::error::Result;
use crate::graph::eval::{qlinear_matmul, quantize};
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{math, spatial, ValueType};
use crate::graph::{Node, Op};
use crate::tensor::{DType, HostTensor};

/// The quantization family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "quantize",
    onnx: &[
        OnnxOp::one("QuantizeLinear", 10),
        OnnxOp::one("DequantizeLinear", 10),
        OnnxOp::one("QLinearConv", 10),
        OnnxOp::one("QLinearMatMul", 10),
        OnnxOp {
            op_type: "DynamicQuantizeLinear",
            since_opset: 11,
            outputs: OnnxOutputs::All,
        },
    ],
    shape,
    cpu,
    backward: None,
};

/// QuantizeLinear gives its zero point's dtype (u8 without one), DequantizeLinear its scale's,
/// QLinearConv its output zero point's; DynamicQuantizeLinear gives u8 `y`, f32 and u8 scalars.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::QuantizeLinear { .. } => {
            let dtype = inputs.optional(2).map_or(DType::U8, |zero| zero.ty.dtype);
            one(dtype, inputs.shape(0)?.to_vec())
        }
        Op::DequantizeLinear { .. } => one(inputs.dtype(1)?, inputs.shape(0)?.to_vec()),
        Op::QLinearConv(attrs) => one(inputs.dtype(7)?, spatial::conv(inputs, attrs, 3)?),
        Op::QLinearMatMul { .. } => one(inputs.dtype(7)?, math::matmul_of(inputs, 0, 3)?),
        Op::DynamicQuantizeLinear => Ok(vec![
            ValueType::new(DType::U8, inputs.shape(0)?.to_vec()),
            ValueType::new(DType::F32, vec![]),
            ValueType::new(DType::U8, vec![]),
        ]),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::QLinearConv(attrs) => quantize::qlinear_conv(attrs, inputs),
        Op::QuantizeLinear { axis, .. } => quantize::quantize_linear(*axis, inputs),
        Op::DequantizeLinear { axis } => quantize::dequantize_linear(*axis, inputs),
        Op::DynamicQuantizeLinear => quantize::dynamic_quantize_linear(inputs),
        Op::QLinearMatMul { activation } => qlinear_matmul::qlinear_matmul(*activation, inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
