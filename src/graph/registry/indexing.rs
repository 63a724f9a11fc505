//! The indexing family: Gather, and the ops that read shapes or make or pass values (Shape,
//! ConstantOfShape, Range, Identity, Dropout in inference).

use super::{not_in_family, FamilySpec, OnnxOp};
use crate::error::Result;
use crate::graph::eval::indexing;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{layout as shapes, shape_range, ValueType};
use crate::graph::{Node, Op};
use crate::tensor::{DType, HostTensor};

/// The indexing family's entry (Dropout's mask output is computed when declared).
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "indexing",
    onnx: &[
        OnnxOp::one("Gather", 1),
        OnnxOp::one("Shape", 1),
        OnnxOp::one("ConstantOfShape", 9),
        OnnxOp::one("Range", 11),
        OnnxOp::one("Identity", 1),
        OnnxOp::first_of("Dropout", 1, 2),
    ],
    shape,
    cpu,
    backward: None,
};

/// Gather and Identity keep the data's dtype; Shape gives i64; ConstantOfShape its value's dtype;
/// Dropout its input's, with a bool mask when a second output is declared.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::Identity => one(inputs.dtype(0)?, inputs.shape(0)?.to_vec()),
        Op::Dropout => {
            let data = ValueType::new(inputs.dtype(0)?, inputs.shape(0)?.to_vec());
            let mask = ValueType::new(DType::Bool, data.shape.clone());
            let declared = inputs.node.outputs.len();
            Ok([data, mask].into_iter().take(declared).collect())
        }
        Op::Gather { axis } => one(inputs.dtype(0)?, shapes::gather(inputs, *axis)?),
        Op::Shape { start, end } => {
            let (start, end) = shape_range(inputs.shape(0)?.len(), *start, *end);
            one(DType::I64, vec![end.saturating_sub(start)])
        }
        Op::ConstantOfShape { value } => {
            one(value.dtype(), shapes::constant_of_shape(inputs, value)?)
        }
        Op::Range => one(inputs.same_dtype(0..3)?, shapes::range(inputs)?),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::Gather { axis } => indexing::gather(*axis, inputs),
        Op::Shape { start, end } => indexing::shape(*start, *end, inputs),
        Op::ConstantOfShape { value } => indexing::constant_of_shape(value, inputs),
        Op::Range => indexing::range(inputs),
        Op::Identity => indexing::identity(inputs),
        Op::Dropout => indexing::dropout(node.outputs.len(), inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
