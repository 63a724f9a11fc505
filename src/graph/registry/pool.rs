//! The pooling family: MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool.

use super::{not_in_family, FamilySpec, OnnxOp};
use crate::error::Result;
use crate::graph::eval::pool;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{spatial, ValueType};
use crate::graph::{Node, Op};
use crate::ops::pooling::PoolKind;
use crate::tensor::HostTensor;

/// The pooling family's entry (MaxPool's optional `Indices` output must be unread).
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "pool",
    onnx: &[
        OnnxOp::first_of("MaxPool", 1, 2),
        OnnxOp::one("AveragePool", 1),
        OnnxOp::one("GlobalAveragePool", 1),
        OnnxOp::one("GlobalMaxPool", 1),
    ],
    shape,
    cpu,
    backward: None,
};

/// The output keeps the input's dtype; windows resolve through the pooling geometry.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::MaxPool(attrs) | Op::AveragePool(attrs) => {
            one(inputs.dtype(0)?, spatial::pool(inputs, attrs)?)
        }
        Op::GlobalAveragePool | Op::GlobalMaxPool => {
            one(inputs.dtype(0)?, spatial::global_pool(inputs)?)
        }
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::MaxPool(attrs) => pool::pool(PoolKind::Max, attrs, inputs),
        Op::AveragePool(attrs) => pool::pool(PoolKind::Average, attrs, inputs),
        Op::GlobalAveragePool => pool::global_pool(PoolKind::Average, inputs),
        Op::GlobalMaxPool => pool::global_pool(PoolKind::Max, inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
