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

pub(crate) mod args;
pub(crate) mod arithmetic;
pub(crate) mod broadcast;
pub(crate) mod conv;
pub(crate) mod indexing;
pub(crate) mod layout;
pub(crate) mod logic;
pub(crate) mod matmul;
pub(crate) mod normalize;
pub(crate) mod pool;
pub(crate) mod qlinear_matmul;
pub(crate) mod qlinear_pool;
pub(crate) mod quantize;
pub(crate) mod quantized_elementwise;
pub(crate) mod reduce;
pub(crate) mod reshape;
pub(crate) mod resize;
#[cfg(test)]
pub(crate) mod robustness;
#[cfg(test)]
pub(crate) mod robustness_seeds;

#[cfg(test)]
pub(crate) use robustness::sample_ops;
#[cfg(test)]
pub(crate) use robustness_seeds::seed_inputs;

use crate::error::{Error, Result};
use crate::graph::Node;
use crate::tensor::{element, HostTensor};

/// Evaluates `node` on `inputs` (in the op's input order; `None` for an omitted optional input)
/// and returns its outputs in order. Errors name the node: a wrong number of inputs, a dtype the
/// op does not take, shapes that do not fit, an index out of range.
pub fn eval_node(node: &Node, inputs: &[Option<&HostTensor>]) -> Result<Vec<HostTensor>> {
    (node.op.family().spec().cpu)(node, inputs).map_err(|error| locate(node, error))
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
