//! Backward rules: the gradients of a node's inputs from the gradients of its outputs, its
//! inputs and its outputs (reverse-mode differentiation, one node at a time). A family's
//! [`super::FamilySpec::backward`] holds its rule; autograd over a graph (the training issue)
//! walks the nodes backwards calling them. Gradients are f32, accumulated in f64 and rounded once.

use crate::error::{Error, Result};
use crate::graph::eval::broadcast::broadcast_offsets;
use crate::graph::{Node, Op};
use crate::ops::elementwise::{BinaryOp, UnaryOp};
use crate::ops::PointwiseActivation;
use crate::tensor::HostTensor;

/// What a backward rule reads.
pub struct BackwardArgs<'a> {
    /// The node.
    pub node: &'a Node,
    /// Its inputs in the forward pass (`None`: omitted).
    pub inputs: &'a [Option<&'a HostTensor>],
    /// Its outputs in the forward pass.
    pub outputs: &'a [HostTensor],
    /// The gradient of the loss with respect to each output (`None`: the output does not reach
    /// the loss).
    pub output_grads: &'a [Option<&'a HostTensor>],
}

/// A family's backward rule: the gradient of the loss with respect to each input, in input order
/// (`None` for an input the loss does not depend on through this node, or an omitted one).
pub type BackwardRule = fn(&BackwardArgs<'_>) -> Result<Vec<Option<HostTensor>>>;

/// The element-wise family's rule: Add, Sub and Mul (numpy broadcasting: a broadcast input's
/// gradient sums over the axes it was repeated along) and Relu (`dy` where `x > 0`, else 0).
/// The family's other ops are [`Error::Unsupported`] until they have one.
pub(super) fn elementwise(args: &BackwardArgs<'_>) -> Result<Vec<Option<HostTensor>>> {
    let Some(output_grad) = args.output_grads.first().copied().flatten() else {
        return Ok(vec![None; args.inputs.len()]);
    };
    match args.node.op {
        Op::Binary(op @ (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul)) => {
            binary(args, op, output_grad)
        }
        Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu)) => {
            let x = f32_input(args, 0)?;
            let dy = f32_values(args.node, output_grad, "the output gradient")?;
            same_shape(args.node, x.shape(), output_grad.shape())?;
            let values = x.as_f32().unwrap_or_default();
            let grad = values
                .iter()
                .zip(dy)
                .map(|(&x, &dy)| if x > 0.0 { dy } else { 0.0 })
                .collect();
            Ok(vec![Some(HostTensor::from_f32(x.shape(), grad)?)])
        }
        _ => Err(Error::Unsupported {
            location: args.node.location(),
            detail: format!("{} has no backward rule yet", args.node.op.name()),
        }),
    }
}

/// `∂L/∂a` and `∂L/∂b` of `a op b`: each output element's gradient times the local derivative
/// (Add: 1, 1; Sub: 1, −1; Mul: b, a), summed into the element of each input it read.
fn binary(
    args: &BackwardArgs<'_>,
    op: BinaryOp,
    output_grad: &HostTensor,
) -> Result<Vec<Option<HostTensor>>> {
    let (a, b) = (f32_input(args, 0)?, f32_input(args, 1)?);
    let (shape, offsets) = broadcast_offsets(&[a.shape(), b.shape()])?;
    same_shape(args.node, &shape, output_grad.shape())?;
    let dy = f32_values(args.node, output_grad, "the output gradient")?;
    let (a_values, b_values) = (
        a.as_f32().unwrap_or_default(),
        b.as_f32().unwrap_or_default(),
    );
    let mut a_grad = vec![0f64; a_values.len()];
    let mut b_grad = vec![0f64; b_values.len()];
    for (index, &dy) in dy.iter().enumerate() {
        let (at_a, at_b) = (offsets[0][index], offsets[1][index]);
        let (da, db) = match op {
            BinaryOp::Sub => (1.0, -1.0),
            BinaryOp::Mul => (f64::from(b_values[at_b]), f64::from(a_values[at_a])),
            _ => (1.0, 1.0),
        };
        a_grad[at_a] += f64::from(dy) * da;
        b_grad[at_b] += f64::from(dy) * db;
    }
    let round = |grad: Vec<f64>| grad.into_iter().map(|g| g as f32).collect();
    Ok(vec![
        Some(HostTensor::from_f32(a.shape(), round(a_grad))?),
        Some(HostTensor::from_f32(b.shape(), round(b_grad))?),
    ])
}

/// Input `index`, which must be present and f32.
fn f32_input<'a>(args: &BackwardArgs<'a>, index: usize) -> Result<&'a HostTensor> {
    let input = args
        .inputs
        .get(index)
        .copied()
        .flatten()
        .ok_or_else(|| Error::InvalidModel {
            location: args.node.location(),
            detail: format!("the backward rule needs input {index}"),
        })?;
    f32_values(args.node, input, &format!("input {index}"))?;
    Ok(input)
}

/// The f32 values of `tensor` (`what` names it), an [`Error::Unsupported`] for other dtypes.
fn f32_values<'t>(node: &Node, tensor: &'t HostTensor, what: &str) -> Result<&'t [f32]> {
    tensor.as_f32().ok_or_else(|| Error::Unsupported {
        location: node.location(),
        detail: format!(
            "backward rules take f32 tensors; {what} is {}",
            tensor.dtype()
        ),
    })
}

/// An error unless the output gradient has the output's shape.
fn same_shape(node: &Node, output: &[usize], output_grad: &[usize]) -> Result<()> {
    if output == output_grad {
        return Ok(());
    }
    Err(Error::InvalidModel {
        location: node.location(),
        detail: format!("the output gradient has shape {output_grad:?}, the output {output:?}"),
    })
}
