//! The element-wise family: Sqrt, Exp, Log, Neg, Abs and the standalone activations
//! (`Op::Unary`), the binary ops with numpy broadcasting, the variadic Sum / Min / Max, and Clip.
//! Its backward rule covers Add, Sub, Mul and Relu (see [`super::backward`]).

use super::{backward, not_in_family, FamilySpec, OnnxOp};
use crate::error::Result;
use crate::graph::eval::arithmetic;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{math, ValueType};
use crate::graph::{Node, Op};
use crate::ops::elementwise::BinaryOp;
use crate::tensor::HostTensor;

/// The element-wise family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "elementwise",
    onnx: &[
        OnnxOp::one("Abs", 1),
        OnnxOp::one("Exp", 1),
        OnnxOp::one("Log", 1),
        OnnxOp::one("Neg", 1),
        OnnxOp::one("Sqrt", 1),
        OnnxOp::one("Relu", 1),
        OnnxOp::one("LeakyRelu", 1),
        OnnxOp::one("Sigmoid", 1),
        OnnxOp::one("Tanh", 1),
        OnnxOp::one("HardSigmoid", 1),
        OnnxOp::one("HardSwish", 14),
        OnnxOp::one("Gelu", 20),
        OnnxOp::one("Softplus", 1),
        OnnxOp::one("Add", 1),
        OnnxOp::one("Sub", 1),
        OnnxOp::one("Mul", 1),
        OnnxOp::one("Div", 1),
        OnnxOp::one("Pow", 1),
        OnnxOp::one("Min", 1),
        OnnxOp::one("Max", 1),
        OnnxOp::one("Sum", 1),
        OnnxOp::one("Clip", 1),
    ],
    shape,
    cpu,
    backward: Some(backward::elementwise),
};

/// Unary ops and Clip keep their input's type; Pow takes its base's dtype; the others broadcast
/// inputs of one dtype.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::Unary(_) | Op::Clip => one(inputs.dtype(0)?, inputs.shape(0)?.to_vec()),
        Op::Binary(BinaryOp::Pow) => one(inputs.dtype(0)?, math::broadcast(inputs, 0..2)?),
        Op::Binary(_) | Op::Variadic(_) => {
            let count = inputs.len();
            one(
                inputs.same_dtype(0..count)?,
                math::broadcast(inputs, 0..count)?,
            )
        }
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::Unary(op) => arithmetic::unary(*op, inputs),
        Op::Binary(op) => arithmetic::binary(*op, inputs),
        Op::Variadic(op) => arithmetic::variadic(*op, inputs),
        Op::Clip => arithmetic::clip(inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
