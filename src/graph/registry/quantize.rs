//! The quantization family: QuantizeLinear, DequantizeLinear and QLinearConv.

use super::{not_in_family, FamilySpec, OnnxOp};
use crate::error::Result;
use crate::graph::eval::quantize;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{spatial, ValueType};
use crate::graph::{Node, Op};
use crate::tensor::{DType, HostTensor};

/// The quantization family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "quantize",
    onnx: &[
        OnnxOp::one("QuantizeLinear", 10),
        OnnxOp::one("DequantizeLinear", 10),
        OnnxOp::one("QLinearConv", 10),
    ],
    shape,
    cpu,
    backward: None,
};

/// QuantizeLinear gives its zero point's dtype (u8 without one), DequantizeLinear its scale's,
/// QLinearConv its output zero point's.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::QuantizeLinear { .. } => {
            let dtype = inputs.optional(2).map_or(DType::U8, |zero| zero.ty.dtype);
            one(dtype, inputs.shape(0)?.to_vec())
        }
        Op::DequantizeLinear { .. } => one(inputs.dtype(1)?, inputs.shape(0)?.to_vec()),
        Op::QLinearConv(attrs) => one(inputs.dtype(7)?, spatial::conv(inputs, attrs, 3)?),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::QLinearConv(attrs) => quantize::qlinear_conv(attrs, inputs),
        Op::QuantizeLinear { axis, .. } => quantize::quantize_linear(*axis, inputs),
        Op::DequantizeLinear { axis } => quantize::dequantize_linear(*axis, inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
