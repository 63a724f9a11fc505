//! Shape rules of the element-wise and matrix ops: numpy broadcasting, numpy MatMul, Gemm, the
//! reductions and ArgMax.

use super::rules::NodeInputs;
use crate::error::Result;
use crate::graph::Op;
use crate::ops::elementwise::broadcast_output_shape;
use crate::ops::gemm::gemm_dims;
use crate::ops::reduce::ReducePlan;
use crate::tensor::shape::normalize_axis;

/// The numpy broadcast of the inputs at `indices` (all required).
pub(crate) fn broadcast(
    inputs: &NodeInputs<'_>,
    indices: impl IntoIterator<Item = usize>,
) -> Result<Vec<usize>> {
    let shapes = indices
        .into_iter()
        .map(|index| inputs.shape(index))
        .collect::<Result<Vec<_>>>()?;
    broadcast_output_shape(inputs.node.op.name(), &shapes).map_err(|e| inputs.at_node(e))
}

/// numpy matmul: a 1-D A is a row and a 1-D B a column (each dropped from the output again), and
/// the batch axes before the last two broadcast.
pub(crate) fn matmul(inputs: &NodeInputs<'_>) -> Result<Vec<usize>> {
    matmul_of(inputs, 0, 1)
}

/// [`matmul`] of inputs `a_index` and `b_index` (QLinearMatMul's operands are inputs 0 and 3).
pub(crate) fn matmul_of(
    inputs: &NodeInputs<'_>,
    a_index: usize,
    b_index: usize,
) -> Result<Vec<usize>> {
    let (a, b) = (inputs.shape(a_index)?, inputs.shape(b_index)?);
    if a.is_empty() || b.is_empty() {
        return Err(inputs.error(format!("operands must have rank ≥ 1, got {a:?} and {b:?}")));
    }
    let a_matrix = if a.len() == 1 {
        vec![1, a[0]]
    } else {
        a.to_vec()
    };
    let b_matrix = if b.len() == 1 {
        vec![b[0], 1]
    } else {
        b.to_vec()
    };
    let (a_batch, [m, k]) = split_matrix(&a_matrix);
    let (b_batch, [b_k, n]) = split_matrix(&b_matrix);
    if k != b_k {
        return Err(inputs.error(format!("A {a:?} has K = {k} but B {b:?} has K = {b_k}")));
    }
    let mut shape =
        broadcast_output_shape("MatMul", &[a_batch, b_batch]).map_err(|e| inputs.at_node(e))?;
    if a.len() > 1 {
        shape.push(m);
    }
    if b.len() > 1 {
        shape.push(n);
    }
    Ok(shape)
}

/// A matrix-or-batch shape split into its batch axes and its last two.
fn split_matrix(shape: &[usize]) -> (&[usize], [usize; 2]) {
    let (batch, matrix) = shape.split_at(shape.len() - 2);
    (batch, [matrix[0], matrix[1]])
}

/// Gemm: `[M, N]` from the (optionally transposed) matrices A and B; C must broadcast to it.
pub(crate) fn gemm(inputs: &NodeInputs<'_>) -> Result<Vec<usize>> {
    let Some(options) = inputs.node.op.gemm_options() else {
        return Err(inputs.error("is not a Gemm".into()));
    };
    let dims = gemm_dims("Gemm", inputs.shape(0)?, inputs.shape(1)?, &options)
        .map_err(|e| inputs.at_node(e))?;
    let output = vec![dims.m, dims.n];
    if let Some(c) = inputs.optional(2) {
        let fits = c.ty.shape.len() <= 2
            && broadcast_output_shape("Gemm", &[&c.ty.shape, &output]).ok() == Some(output.clone());
        if !fits {
            return Err(inputs.error(format!(
                "C {:?} does not broadcast to the output {output:?}",
                c.ty.shape
            )));
        }
    }
    Ok(output)
}

/// ReduceSum / ReduceMean / ReduceMax over the axes in input 1 (none: every axis, or no
/// reduction at all with `noop_with_empty_axes`).
pub(crate) fn reduce(inputs: &NodeInputs<'_>) -> Result<Vec<usize>> {
    let Op::Reduce {
        keepdims,
        noop_with_empty_axes,
        ..
    } = inputs.node.op
    else {
        return Err(inputs.error("is not a reduction".into()));
    };
    let shape = inputs.shape(0)?;
    let axes = inputs.ints(1, "axes")?.unwrap_or_default();
    if axes.is_empty() && noop_with_empty_axes {
        return Ok(shape.to_vec());
    }
    let plan = ReducePlan::new(inputs.node.op.name(), shape, &axes, keepdims)
        .map_err(|e| inputs.at_node(e))?;
    Ok(plan.output_shape)
}

/// ArgMax along `axis`, which is kept as 1 or dropped.
pub(crate) fn arg_max(inputs: &NodeInputs<'_>, axis: i64, keepdims: bool) -> Result<Vec<usize>> {
    let mut shape = inputs.shape(0)?.to_vec();
    let axis = normalize_axis("ArgMax", axis, shape.len()).map_err(|e| inputs.at_node(e))?;
    if keepdims {
        shape[axis] = 1;
    } else {
        shape.remove(axis);
    }
    Ok(shape)
}
