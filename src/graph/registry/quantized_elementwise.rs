//! The integer element-wise family: QLinearAdd / QLinearMul (`Op::QLinearBinary`),
//! QLinearConcat and LookupTable. The QDQ lowering makes them (`crate::graph::passes::qdq`); no
//! ONNX op type imports to them (onnxruntime's QLinearAdd, QLinearMul and QLinearConcat are
//! `com.microsoft` contrib ops), and the exporter writes them as standard ONNX.

use super::{not_in_family, FamilySpec};
use crate::error::Result;
use crate::graph::eval::quantized_elementwise as eval;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{math, ValueType};
use crate::graph::{Node, Op};
use crate::ops::layout::concat_shape;
use crate::tensor::HostTensor;

/// The integer element-wise family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "quantized_elementwise",
    onnx: &[],
    shape,
    cpu,
    backward: None,
};

/// QLinearBinary broadcasts `a` (0) and `b` (3) to `y_zero_point`'s (7) dtype; QLinearConcat
/// joins inputs 2, 5, 8, … in `y_zero_point`'s (1) dtype; LookupTable has x's shape and the
/// table's dtype.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::QLinearBinary { .. } => one(inputs.dtype(7)?, math::broadcast(inputs, [0, 3])?),
        Op::QLinearConcat { axis } => {
            let shapes = (2..inputs.len())
                .step_by(3)
                .map(|index| inputs.shape(index))
                .collect::<Result<Vec<_>>>()?;
            let (_, shape) = concat_shape(&shapes, *axis).map_err(|e| inputs.at_node(e))?;
            one(inputs.dtype(1)?, shape)
        }
        Op::LookupTable { .. } => one(inputs.dtype(1)?, inputs.shape(0)?.to_vec()),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::QLinearBinary { op } => eval::qlinear_binary(*op, inputs),
        Op::QLinearConcat { axis } => eval::qlinear_concat(*axis, inputs),
        Op::LookupTable { x_dtype } => eval::lookup_table(*x_dtype, inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
