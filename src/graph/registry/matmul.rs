//! The matrix-product family: MatMul (numpy batching), Gemm and MatMulInteger.

use super::{not_in_family, FamilySpec, OnnxOp};
use crate::error::Result;
use crate::graph::eval::matmul;
use crate::graph::infer::rules::{one, NodeInputs};
use crate::graph::infer::{math, ValueType};
use crate::graph::{Node, Op};
use crate::tensor::{DType, HostTensor};

/// The matrix-product family's entry.
pub(super) static SPEC: FamilySpec = FamilySpec {
    name: "matmul",
    onnx: &[
        OnnxOp::one("MatMul", 1),
        OnnxOp::one("Gemm", 1),
        OnnxOp::one("MatMulInteger", 10),
    ],
    shape,
    cpu,
    backward: None,
};

/// MatMul and Gemm keep their operands' dtype; MatMulInteger accumulates in i32.
fn shape(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    match &inputs.node.op {
        Op::MatMul { .. } => one(inputs.same_dtype(0..2)?, math::matmul(inputs)?),
        Op::MatMulInteger => one(DType::I32, math::matmul(inputs)?),
        Op::Gemm { .. } => one(inputs.same_dtype(0..3)?, math::gemm(inputs)?),
        _ => Err(not_in_family(inputs.node, SPEC.name)),
    }
}

fn cpu(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::MatMul { activation } => matmul::matmul(*activation, inputs),
        Op::Gemm { activation, .. } => {
            let options = node.op.gemm_options().unwrap_or_default();
            matmul::gemm(&options, *activation, inputs)
        }
        Op::MatMulInteger => matmul::matmul_integer(inputs),
        _ => Err(not_in_family(node, SPEC.name)),
    }
}
