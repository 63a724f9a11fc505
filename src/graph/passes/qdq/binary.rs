//! `DQ(a_q), DQ(b_q) → Add/Mul → Q` ⇒ `QLinearBinary(a_q, …, b_q, …, y_scale, y_zp)`, per-tensor
//! int8/uint8 quantization on every side (an operand may be the DQ of an initializer).
//!
//! Within one output step of the float path, and only where the exact result lies next to a
//! rounding boundary: [`crate::ops::quantized_elementwise`] derives the bound. For Add it holds
//! while `a_scale/y_scale + b_scale/y_scale ≤ MAX_ADD_MULTIPLIER_SUM`; larger ratios stay float.

use super::conv::activation_quantization;
use super::{dequantize_producer, sole_consumer};
use crate::graph::{Graph, Node, Op};
use crate::ops::quantized_elementwise::{
    QLinearBinaryOp, TensorQuantization, MAX_ADD_MULTIPLIER_SUM,
};

/// One Add or Mul's lowering: the QLinearBinary's inputs and output, and the Q it replaces.
pub(super) struct BinaryLowering {
    op: QLinearBinaryOp,
    inputs: Vec<Option<String>>,
    output: String,
    q_index: usize,
}

/// The lowering of the Add or Mul at `index`, or why it stays float.
pub(super) fn plan(
    graph: &Graph,
    index: usize,
    op: QLinearBinaryOp,
) -> std::result::Result<BinaryLowering, String> {
    let node = &graph.nodes[index];
    let mut inputs = Vec::with_capacity(8);
    let mut scales = Vec::with_capacity(2);
    for (operand, what) in ["a", "b"].into_iter().enumerate() {
        let (dq, quantized) = node
            .input(operand)
            .and_then(|value| dequantize_producer(graph, value))
            .ok_or_else(|| format!("its input {what} is not a DequantizeLinear output"))?;
        scales.push(per_tensor(graph, dq, what)?.scale);
        inputs.extend([Some(quantized), input(dq, 1), input(dq, 2)]);
    }
    let (q_index, y_quant) = quantize_consumer(graph, node)?;
    let q = &graph.nodes[q_index];
    if op == QLinearBinaryOp::Add {
        let sum = (scales[0] + scales[1]) / y_quant.scale;
        if sum > MAX_ADD_MULTIPLIER_SUM {
            return Err(format!(
                "its input scales over the output's sum to {sum}, above the {MAX_ADD_MULTIPLIER_SUM} \
                 within which QLinearAdd is one step from the float path"
            ));
        }
    }
    inputs.extend([input(q, 1), input(q, 2)]);
    Ok(BinaryLowering {
        op,
        inputs,
        output: q.outputs[0].clone(),
        q_index,
    })
}

/// Makes the node at `index` the QLinearBinary and removes the Q it absorbs.
pub(super) fn apply(graph: &mut Graph, index: usize, lowering: BinaryLowering) {
    let node = &mut graph.nodes[index];
    node.op = Op::QLinearBinary { op: lowering.op };
    node.inputs = lowering.inputs;
    node.outputs = vec![lowering.output];
    graph.nodes.remove(lowering.q_index);
}

/// The QuantizeLinear (saturating, per-tensor int8/uint8) that alone reads `node`'s one output:
/// its index and quantization.
pub(super) fn quantize_consumer(
    graph: &Graph,
    node: &Node,
) -> std::result::Result<(usize, TensorQuantization), String> {
    let not_quantized = || "its output does not feed exactly one QuantizeLinear".to_string();
    let [output] = node.outputs.as_slice() else {
        return Err("it has several outputs".into());
    };
    let q_index = sole_consumer(graph, output).ok_or_else(not_quantized)?;
    let q = &graph.nodes[q_index];
    match q.op {
        Op::QuantizeLinear { saturate: true, .. } if q.input(0) == Some(output.as_str()) => {}
        Op::QuantizeLinear { .. } if q.input(0) == Some(output.as_str()) => {
            return Err("its QuantizeLinear does not saturate".into())
        }
        _ => return Err(not_quantized()),
    }
    Ok((q_index, per_tensor(graph, q, "output")?))
}

/// The per-tensor int8/uint8 quantization of a DQ or Q `node` with an explicit constant zero
/// point (whose dtype is the quantized value's), checked (positive normal scale).
pub(super) fn per_tensor(
    graph: &Graph,
    node: &Node,
    what: &str,
) -> std::result::Result<TensorQuantization, String> {
    let quant = activation_quantization(graph, node, what)?;
    let quantization = TensorQuantization {
        scale: quant.scales[0],
        zero_point: quant.zero_points[0],
        dtype: quant.dtype,
    };
    quantization
        .check("lower_qdq", what)
        .map_err(|error| format!("'{}': {error}", node.name))?;
    Ok(quantization)
}

fn input(node: &Node, index: usize) -> Option<String> {
    node.input(index).map(str::to_string)
}
