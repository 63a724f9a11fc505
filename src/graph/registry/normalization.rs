//! The normalization family: BatchNormalization (inference), LayerNormalization, LRN, Softmax and
//! LogSoftmax.

use super::{not_in_family, FamilySpec, OnnxOp};
use crate::error::Result;
use crate::graph::eval::normalize;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::ValueType;
use crate::graph::{Node, Op};
use crate::tensor::HostTensor;

/// The normalization family's entry (the training-mode outputs must be unread).
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "normalization",
    onnx: &[
        OnnxOp::first_of("BatchNormalization", 1, 5),
        OnnxOp::first_of("LayerNormalization", 17, 3),
        OnnxOp::one("LRN", 1),
        OnnxOp::one("Softmax", 1),
        OnnxOp::one("LogSoftmax", 1),
    ],
    shape,
    cpu,
    backward: None,
};

/// Every op of the family keeps its input's dtype and shape.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::BatchNormalization { .. }
        | Op::LayerNormalization { .. }
        | Op::Lrn(_)
        | Op::Softmax { .. }
        | Op::LogSoftmax { .. } => one(inputs.dtype(0)?, inputs.shape(0)?.to_vec()),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::BatchNormalization { epsilon } => normalize::batch_normalization(*epsilon, inputs),
        Op::LayerNormalization { axis, epsilon } => {
            normalize::layer_normalization(*axis, *epsilon, inputs)
        }
        Op::Lrn(attrs) => normalize::lrn(attrs, inputs),
        Op::Softmax { axis, coerce_2d } => normalize::softmax(*axis, *coerce_2d, false, inputs),
        Op::LogSoftmax { axis, coerce_2d } => normalize::softmax(*axis, *coerce_2d, true, inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
