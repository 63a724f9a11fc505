//! The meaning of the IR: every [`crate::graph::Op`] evaluated on host tensors, plainly.
//!
//! [`eval_node`] computes one node from its input tensors. Semantics are ONNX's, as its reference
//! implementation computes them (numpy broadcasting, negative axes, integer arithmetic that wraps
//! and truncates). Where an op family in [`crate::ops`] holds a reference (convolutions, matmuls,
//! pools, Resize, quantization, …), it is the one with ONNX semantics, the same the GPU kernels are
//! tested against, and the op file here only reads and checks the node's inputs and calls it.
//! Float ops accept f32 and f16 (computed in f32 or f64, rounded back);
//! the data-movement ops take every dtype. It lives in `graph` because the IR's own passes need
//! it: constant folding ([`crate::graph::passes`]) and shape inference ([`crate::graph::infer`])
//! call [`eval_node`], and the CPU backend (`crate::runtime::cpu`) re-exports it, so modules
//! depend one way: `ops` ← `graph` ← `runtime`.
//!
//! ```
//! use kiln::graph::{Node, Op};
//! use kiln::ops::elementwise::BinaryOp;
//! use kiln::tensor::HostTensor;
//! let node = Node {
//!     name: "add".into(),
//!     op: Op::Binary(BinaryOp::Add),
//!     inputs: vec![Some("a".into()), Some("b".into())],
//!     outputs: vec!["y".into()],
//! };
//! let a = HostTensor::from_f32(&[2], vec![1.0, 2.0])?;
//! let b = HostTensor::from_f32(&[], vec![10.0])?;
//! let y = kiln::graph::eval::eval_node(&node, &[Some(&a), Some(&b)])?;
//! assert_eq!(y[0].as_f32(), Some(&[11.0, 12.0][..]));
//! # Ok::<(), kiln::Error>(())
//! ```

mod args;
mod arithmetic;
mod broadcast;
mod conv;
mod indexing;
mod layout;
mod logic;
mod matmul;
mod normalize;
mod pool;
mod quantize;
mod reduce;
mod reshape;
mod resize;
#[cfg(test)]
mod robustness;
#[cfg(test)]
mod robustness_seeds;

use crate::error::{Error, Result};
use crate::graph::{Node, Op};
use crate::ops::pooling::PoolKind;
use crate::tensor::{element, HostTensor};
use args::Inputs;

/// Evaluates `node` on `inputs` (in the op's input order; `None` for an omitted optional input)
/// and returns its outputs in order. Errors name the node: a wrong number of inputs, a dtype the
/// op does not take, shapes that do not fit, an index out of range.
pub fn eval_node(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    dispatch(node, inputs).map_err(|error| locate(node, error))
}

fn dispatch(node: &Node, inputs: Inputs) -> Result<Vec<HostTensor>> {
    match &node.op {
        Op::Unary(op) => arithmetic::unary(*op, inputs),
        Op::Binary(op) => arithmetic::binary(*op, inputs),
        Op::Variadic(op) => arithmetic::variadic(*op, inputs),
        Op::Clip => arithmetic::clip(inputs),
        Op::Where => logic::select(inputs),
        Op::Compare(op) => logic::compare(*op, inputs),
        Op::Not => logic::not(inputs),
        Op::Cast { to } => logic::cast(*to, inputs),
        Op::MatMul { activation } => matmul::matmul(*activation, inputs),
        Op::Gemm { activation, .. } => {
            let options = node.op.gemm_options().unwrap_or_default();
            matmul::gemm(&options, *activation, inputs)
        }
        Op::MatMulInteger => matmul::matmul_integer(inputs),
        Op::Conv(attrs) => conv::conv(attrs, inputs),
        Op::ConvTranspose(attrs) => conv::conv_transpose(attrs, inputs),
        Op::QLinearConv(attrs) => quantize::qlinear_conv(attrs, inputs),
        Op::QuantizeLinear { axis, .. } => quantize::quantize_linear(*axis, inputs),
        Op::DequantizeLinear { axis } => quantize::dequantize_linear(*axis, inputs),
        Op::MaxPool(attrs) => pool::pool(PoolKind::Max, attrs, inputs),
        Op::AveragePool(attrs) => pool::pool(PoolKind::Average, attrs, inputs),
        Op::GlobalAveragePool => pool::global_pool(PoolKind::Average, inputs),
        Op::GlobalMaxPool => pool::global_pool(PoolKind::Max, inputs),
        Op::BatchNormalization { epsilon } => normalize::batch_normalization(*epsilon, inputs),
        Op::LayerNormalization { axis, epsilon } => {
            normalize::layer_normalization(*axis, *epsilon, inputs)
        }
        Op::Lrn(attrs) => normalize::lrn(attrs, inputs),
        Op::Softmax { axis, coerce_2d } => normalize::softmax(*axis, *coerce_2d, false, inputs),
        Op::LogSoftmax { axis, coerce_2d } => normalize::softmax(*axis, *coerce_2d, true, inputs),
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
        Op::Resize(attrs) => resize::resize(attrs, inputs),
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
        Op::Gather { axis } => indexing::gather(*axis, inputs),
        Op::Shape { start, end } => indexing::shape(*start, *end, inputs),
        Op::ConstantOfShape { value } => indexing::constant_of_shape(value, inputs),
        Op::Range => indexing::range(inputs),
        Op::Identity => indexing::identity(inputs),
        Op::Dropout => indexing::dropout(node.outputs.len(), inputs),
    }
}

/// Places an error raised while evaluating `node` at the node: model and support errors get its
/// location, value errors its op name and location in front of their detail.
fn locate(node: &Node, error: Error) -> Error {
    let location = node.location();
    match error {
        Error::InvalidModel {
            location: at,
            detail,
        } if at.is_empty() => Error::InvalidModel { location, detail },
        Error::Unsupported {
            location: at,
            detail,
        } if at.is_empty() => Error::Unsupported { location, detail },
        Error::ShapeMismatch { detail, .. } => Error::ShapeMismatch {
            op: node.op.name(),
            detail: format!("{location}: {detail}"),
        },
        Error::InvalidArgument { detail, .. } => Error::InvalidArgument {
            op: node.op.name(),
            detail: format!("{location}: {detail}"),
        },
        Error::DTypeMismatch { .. } | Error::LimitExceeded { .. } => Error::Unsupported {
            location,
            detail: error.to_string(),
        },
        other => other,
    }
}
