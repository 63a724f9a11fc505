//! `DQ(x_q; s_x, z_x) → AveragePool / GlobalAveragePool → Q(s_y, z_y)` ⇒
//! `QLinearAveragePool / QLinearGlobalAveragePool(x_q, s_x, z_x, s_y, z_y)`: the average of the
//! integers `q − z_x`, summed exactly in i32 and requantized once, per-tensor int8 or uint8 on both
//! sides (the scales and zero points may differ; the dtype may not, as in onnxruntime's op).
//!
//! Not bit-exact but within one output step of the float path: both round an approximation of
//! `s_x·Σ(q − z_x) / (s_y·count)` to the nearest integer, with errors below ½ for the windows
//! and scale ratios models use (the condition is derived in [`crate::ops::pooling::qlinear`]), so
//! they differ only when that value lies within those errors of a `.5` boundary, and then by one.
//!
//! Refused, with the reason: a pool over other than 2 spatial axes (AveragePool; the global pool
//! takes any rank), a window beyond [`MAX_QLINEAR_POOL_TAPS`], attribute lists not filled in,
//! per-axis or implicit parameters, different 8-bit types on the two sides, and an output read by
//! anything but its one Q.

use super::passthrough::per_tensor_8bit;
use super::{dequantize_producer, sole_consumer};
use crate::graph::{Graph, Op};
use crate::ops::pooling::MAX_QLINEAR_POOL_TAPS;

/// One average pool's lowering: the quantized op, its inputs, and the Q it replaces.
pub(super) struct AverageLowering {
    op: Op,
    inputs: Vec<Option<String>>,
    q_index: usize,
    output: String,
}

/// The lowering of the AveragePool or GlobalAveragePool at `index`, or why it stays float.
pub(super) fn plan(graph: &Graph, index: usize) -> std::result::Result<AverageLowering, String> {
    let pool = &graph.nodes[index];
    let op = match &pool.op {
        Op::AveragePool(attrs) => {
            let filled = [&attrs.kernel_shape, &attrs.strides, &attrs.dilations];
            if filled.iter().any(|list| list.len() != 2) {
                return Err("it does not pool exactly 2 spatial axes with every list given".into());
            }
            let taps = attrs.kernel_shape[0] * attrs.kernel_shape[1];
            if taps > MAX_QLINEAR_POOL_TAPS {
                return Err(format!(
                    "its window of {taps} taps exceeds {MAX_QLINEAR_POOL_TAPS}"
                ));
            }
            Op::QLinearAveragePool(attrs.clone())
        }
        Op::GlobalAveragePool => Op::QLinearGlobalAveragePool,
        other => return Err(format!("{} is not an average pool", other.name())),
    };
    let (dq, x_q) = pool
        .input(0)
        .and_then(|x| dequantize_producer(graph, x))
        .ok_or("its input is not a DequantizeLinear output")?;
    let q_index = sole_consumer(graph, &pool.outputs[0])
        .filter(|&q| matches!(graph.nodes[q].op, Op::QuantizeLinear { .. }))
        .ok_or("its output does not feed exactly one QuantizeLinear")?;
    let q = &graph.nodes[q_index];
    let (before, after) = (per_tensor_8bit(graph, dq)?, per_tensor_8bit(graph, q)?);
    if before.dtype != after.dtype {
        return Err(format!(
            "it requantizes {} to {} (QLinearAveragePool keeps the type)",
            before.dtype, after.dtype
        ));
    }
    let parameter = |node: &crate::graph::Node, input: usize| node.input(input).map(String::from);
    Ok(AverageLowering {
        op,
        inputs: vec![
            Some(x_q),
            parameter(dq, 1),
            parameter(dq, 2),
            parameter(q, 1),
            parameter(q, 2),
        ],
        q_index,
        output: q.outputs[0].clone(),
    })
}

/// Turns the pool into its quantized op on the quantized input, with the Q's output; removes the
/// Q.
pub(super) fn apply(graph: &mut Graph, index: usize, lowering: AverageLowering) {
    let pool = &mut graph.nodes[index];
    pool.op = lowering.op;
    pool.inputs = lowering.inputs;
    pool.outputs = vec![lowering.output];
    graph.nodes.remove(lowering.q_index);
}
