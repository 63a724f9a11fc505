//! The layout family: ops that move data without computing on it (Concat, Split, Slice,
//! Transpose, Pad, Expand) or only relabel its shape (Reshape, Flatten, Squeeze, Unsqueeze).

use super::{not_in_family, FamilySpec, OnnxOp, OnnxOutputs};
use crate::error::Result;
use crate::graph::eval::{layout, reshape};
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{layout as shapes, ValueType};
use crate::graph::{Node, Op};
use crate::tensor::HostTensor;

/// The layout family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "layout",
    onnx: &[
        OnnxOp::one("Concat", 1),
        OnnxOp {
            op_type: "Split",
            since_opset: 1,
            outputs: OnnxOutputs::All,
        },
        OnnxOp::one("Slice", 1),
        OnnxOp::one("Transpose", 1),
        OnnxOp::one("Pad", 1),
        OnnxOp::one("Reshape", 5),
        OnnxOp::one("Flatten", 1),
        OnnxOp::one("Squeeze", 1),
        OnnxOp::one("Unsqueeze", 1),
        OnnxOp::one("Expand", 8),
    ],
    shape,
    cpu,
    backward: None,
};

/// Every output keeps the (first) input's dtype; the extents come from the op's shape helper.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    let dtype = || inputs.dtype(0);
    match &inputs.node.op {
        Op::Concat { axis } => {
            let count = inputs.len();
            one(inputs.same_dtype(0..count)?, shapes::concat(inputs, *axis)?)
        }
        Op::Split { axis, num_outputs } => shapes::split(inputs, *axis, *num_outputs),
        Op::Slice => one(dtype()?, shapes::slice(inputs)?),
        Op::Transpose { perm } => one(dtype()?, shapes::transpose(inputs, perm)?),
        Op::Pad { mode } => one(dtype()?, shapes::pad(inputs, *mode)?),
        Op::Reshape { allowzero } => one(dtype()?, shapes::reshape(inputs, *allowzero)?),
        Op::Flatten { axis } => one(dtype()?, shapes::flatten(inputs, *axis)?),
        Op::Squeeze => one(dtype()?, shapes::squeeze(inputs)?),
        Op::Unsqueeze => one(dtype()?, shapes::unsqueeze(inputs)?),
        Op::Expand => one(dtype()?, shapes::expand(inputs)?),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::Concat { axis } => layout::concat(*axis, inputs),
        Op::Split { axis, num_outputs } => {
            layout::split(*axis, *num_outputs, node.outputs.len(), inputs)
        }
        Op::Slice => layout::slice(inputs),
        Op::Transpose { perm } => layout::transpose(perm.as_deref(), inputs),
        Op::Pad { mode } => layout::pad(*mode, inputs),
        Op::Reshape { allowzero } => reshape::reshape(*allowzero, inputs),
        Op::Flatten { axis } => reshape::flatten(*axis, inputs),
        Op::Squeeze => reshape::squeeze(inputs),
        Op::Unsqueeze => reshape::unsqueeze(inputs),
        Op::Expand => reshape::expand(inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
