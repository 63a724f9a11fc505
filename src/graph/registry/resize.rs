//! The resize family: Resize, and Upsample, which imports as Resize with asymmetric coordinates.

use super::{not_in_family, FamilySpec, OnnxOp};
use crate::error::Result;
use crate::graph::eval::resize;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{spatial, ValueType};
use crate::graph::{Node, Op};
use crate::tensor::HostTensor;

/// The resize family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "resize",
    onnx: &[OnnxOp::one("Resize", 10), OnnxOp::one("Upsample", 7)],
    shape,
    cpu,
    backward: None,
};

/// The output keeps the input's dtype; its extents come from the scales or sizes.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::Resize(attrs) => one(inputs.dtype(0)?, spatial::resize(inputs, attrs)?),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::Resize(attrs) => resize::resize(attrs, inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
