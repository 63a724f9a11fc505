//! The convolution family: Conv and ConvTranspose (f32 and f16, fused activation).

use super::{not_in_family, FamilySpec, OnnxOp};
use crate::error::Result;
use crate::graph::eval::conv;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{spatial, ValueType};
use crate::graph::{Node, Op};
use crate::tensor::HostTensor;

/// The convolution family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "conv",
    onnx: &[OnnxOp::one("Conv", 1), OnnxOp::one("ConvTranspose", 1)],
    shape,
    cpu,
    backward: None,
};

/// The output keeps the input's dtype; its extents come from the one geometry resolver.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::Conv(attrs) => one(inputs.dtype(0)?, spatial::conv(inputs, attrs, 1)?),
        Op::ConvTranspose(attrs) => one(inputs.dtype(0)?, spatial::conv_transpose(inputs, attrs)?),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::Conv(attrs) => conv::conv(attrs, inputs),
        Op::ConvTranspose(attrs) => conv::conv_transpose(attrs, inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
