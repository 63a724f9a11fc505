//! The logic and conversion family: Where, the comparisons, Not and Cast.

use super::{not_in_family, FamilySpec, OnnxOp};
use crate::error::Result;
use crate::graph::eval::logic;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{math, ValueType};
use crate::graph::{Node, Op};
use crate::tensor::{DType, HostTensor};

/// The logic and conversion family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "convert",
    onnx: &[
        OnnxOp::one("Equal", 1),
        OnnxOp::one("Less", 1),
        OnnxOp::one("LessOrEqual", 12),
        OnnxOp::one("Greater", 1),
        OnnxOp::one("GreaterOrEqual", 12),
        OnnxOp::one("Not", 1),
        OnnxOp::one("Where", 9),
        OnnxOp::one("Cast", 1),
    ],
    shape,
    cpu,
    backward: None,
};

/// Comparisons and Not give bool; Where broadcasts its three inputs; Cast keeps the shape.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::Not => one(DType::Bool, inputs.shape(0)?.to_vec()),
        Op::Cast { to } => one(*to, inputs.shape(0)?.to_vec()),
        Op::Compare(_) => {
            inputs.same_dtype(0..2)?;
            one(DType::Bool, math::broadcast(inputs, 0..2)?)
        }
        Op::Where => one(inputs.same_dtype(1..3)?, math::broadcast(inputs, 0..3)?),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::Where => logic::select(inputs),
        Op::Compare(op) => logic::compare(*op, inputs),
        Op::Not => logic::not(inputs),
        Op::Cast { to } => logic::cast(*to, inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
