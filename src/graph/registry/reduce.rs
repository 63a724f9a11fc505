//! The reduction family: ReduceSum, ReduceMean, ReduceMax and ArgMax.

use super::{not_in_family, FamilySpec, OnnxOp};
use crate::error::Result;
use crate::graph::eval::reduce;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{math, ValueType};
use crate::graph::{Node, Op};
use crate::tensor::{DType, HostTensor};

/// The reduction family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "reduce",
    onnx: &[
        OnnxOp::one("ReduceSum", 1),
        OnnxOp::one("ReduceMean", 1),
        OnnxOp::one("ReduceMax", 1),
        OnnxOp::one("ArgMax", 1),
    ],
    shape,
    cpu,
    backward: None,
};

/// Reductions keep the input's dtype; ArgMax gives i64 indices.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::Reduce { .. } => one(inputs.dtype(0)?, math::reduce(inputs)?),
        Op::ArgMax { axis, keepdims, .. } => {
            one(DType::I64, math::arg_max(inputs, *axis, *keepdims)?)
        }
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::Reduce {
            kind,
            keepdims,
            noop_with_empty_axes,
        } => reduce::reduce(*kind, *keepdims, *noop_with_empty_axes, inputs),
        Op::ArgMax {
            axis,
            keepdims,
            select_last_index,
        } => reduce::arg_max(*axis, *keepdims, *select_last_index, inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
