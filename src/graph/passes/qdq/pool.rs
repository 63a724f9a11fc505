//! `DQ(x_q; s, z) → MaxPool → Q(s, z)` ⇒ `MaxPool(x_q)`: MaxPool on the int8 or uint8 values.
//!
//! Exact: dequantization `(q − z)·s` with `s > 0` is strictly increasing, so the max of the
//! dequantized window is the dequantized max, and the Q with the same scale and zero point maps
//! `(q − z)·s` (rounded to f32) back to `q` (for |q − z| ≤ 255 the f32 product divided by `s`
//! is within a few units of roundoff of the integer `q − z`, far from a rounding boundary).
//! The padding never wins a max (MaxPool skips it), so it needs no zero point.

use super::{dequantize_producer, quantization_of, sole_consumer};
use crate::graph::{Graph, Op};
use crate::tensor::DType;

/// One MaxPool's lowering: its quantized input and the Q whose output it takes over.
pub(super) struct PoolLowering {
    input: String,
    q_index: usize,
    output: String,
}

/// The lowering of the MaxPool at `index`, or why it stays float.
pub(super) fn plan(graph: &Graph, index: usize) -> std::result::Result<PoolLowering, String> {
    let pool = &graph.nodes[index];
    if pool.outputs.len() != 1 {
        return Err("its indices output is used".into());
    }
    let (dq, x_q) = pool
        .input(0)
        .and_then(|x| dequantize_producer(graph, x))
        .ok_or("its input is not a DequantizeLinear output")?;
    let not_quantized = || "its output does not feed exactly one QuantizeLinear".to_string();
    let q_index = sole_consumer(graph, &pool.outputs[0]).ok_or_else(not_quantized)?;
    let q = &graph.nodes[q_index];
    if !matches!(q.op, Op::QuantizeLinear { .. }) {
        return Err(not_quantized());
    }
    let (before, after) = (
        quantization_of(graph, dq, None)?,
        quantization_of(graph, q, None)?,
    );
    let explicit = dq.input(2).is_some() && q.input(2).is_some();
    let same = before.scales == after.scales
        && before.zero_points == after.zero_points
        && before.dtype == after.dtype
        && before.scales.len() == 1
        && before.zero_points.len() == 1;
    if !(explicit && same && matches!(before.dtype, DType::I8 | DType::U8)) {
        return Err(
            "its DequantizeLinear and QuantizeLinear differ (or are not per-tensor \
                    int8/uint8 with explicit zero points)"
                .into(),
        );
    }
    Ok(PoolLowering {
        input: x_q,
        q_index,
        output: q.outputs[0].clone(),
    })
}

/// Points the MaxPool at the quantized input, gives it the Q's output and removes the Q.
pub(super) fn apply(graph: &mut Graph, index: usize, lowering: PoolLowering) {
    let pool = &mut graph.nodes[index];
    pool.inputs[0] = Some(lowering.input);
    pool.outputs = vec![lowering.output];
    graph.nodes.remove(lowering.q_index);
}
