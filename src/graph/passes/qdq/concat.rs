//! `DQ(x0_q), DQ(x1_q), … → Concat → Q` ⇒ `QLinearConcat(y_scale, y_zp, x0_q, x0_scale, x0_zp,
//! …)`, per-tensor int8/uint8 quantization on every side.
//!
//! An input quantized as the output is copied: exact, as MaxPool's lowering argues
//! ([`super::pool`]). The others are requantized with one f32 multiplier, within one output step
//! of the float path's `Q(DQ(x))` and only next to a rounding boundary
//! ([`crate::ops::quantized_elementwise`]).

use super::binary::{per_tensor, quantize_consumer};
use super::dequantize_producer;
use crate::graph::{Graph, Op};

/// One Concat's lowering: the QLinearConcat's inputs and output, and the Q it replaces.
pub(super) struct ConcatLowering {
    inputs: Vec<Option<String>>,
    output: String,
    q_index: usize,
}

/// The lowering of the Concat at `index`, or why it stays float.
pub(super) fn plan(graph: &Graph, index: usize) -> std::result::Result<ConcatLowering, String> {
    let node = &graph.nodes[index];
    let (q_index, _) = quantize_consumer(graph, node)?;
    let q = &graph.nodes[q_index];
    let input = |node: &crate::graph::Node, at: usize| node.input(at).map(str::to_string);
    let mut inputs = vec![input(q, 1), input(q, 2)];
    for (position, value) in node.inputs.iter().enumerate() {
        let (dq, quantized) = value
            .as_deref()
            .and_then(|value| dequantize_producer(graph, value))
            .ok_or_else(|| format!("its input {position} is not a DequantizeLinear output"))?;
        per_tensor(graph, dq, &format!("input {position}"))?;
        inputs.extend([Some(quantized), input(dq, 1), input(dq, 2)]);
    }
    Ok(ConcatLowering {
        inputs,
        output: q.outputs[0].clone(),
        q_index,
    })
}

/// Makes the Concat at `index` the QLinearConcat and removes the Q it absorbs.
pub(super) fn apply(graph: &mut Graph, index: usize, lowering: ConcatLowering) {
    let node = &mut graph.nodes[index];
    let Op::Concat { axis } = node.op else {
        return;
    };
    node.op = Op::QLinearConcat { axis };
    node.inputs = lowering.inputs;
    node.outputs = vec![lowering.output];
    graph.nodes.remove(lowering.q_index);
}
