//! The quantized pooling family: QLinearAveragePool and QLinearGlobalAveragePool, onnxruntime's
//! `com.microsoft` ops. kiln makes them in the QDQ lowering and does not import them (the family
//! lists no ONNX op type of the default domain); they export as standard
//! `DequantizeLinear → AveragePool → QuantizeLinear`.

use super::{not_in_family, FamilySpec};
use crate::error::Result;
use crate::graph::eval::qlinear_pool;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{spatial, ValueType};
use crate::graph::{Node, Op};
use crate::tensor::HostTensor;

/// The quantized pooling family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "quantized_pool",
    onnx: &[],
    shape,
    cpu,
    backward: None,
};

/// The output has the input's 8-bit dtype; windows resolve through the pooling geometry.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::QLinearAveragePool(attrs) => one(inputs.dtype(0)?, spatial::pool(inputs, attrs)?),
        Op::QLinearGlobalAveragePool => one(inputs.dtype(0)?, spatial::global_pool(inputs)?),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::QLinearAveragePool(attrs) => qlinear_pool::qlinear_average_pool(attrs, inputs),
        Op::QLinearGlobalAveragePool => qlinear_pool::qlinear_global_average_pool(inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
