//! `DQ(x_q; s, z) → op → Q(s, z)` ⇒ `op(x_q)` for every op that only moves or selects values:
//! MaxPool, GlobalMaxPool, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Slice, Split (each
//! output through its own Q), Resize with `mode = nearest` (any coordinate transformation), Pad,
//! Identity and Dropout.
//!
//! Exact (0 steps), for one reason: each output element of these ops is either a copy of one input
//! element, or (MaxPool, GlobalMaxPool) the largest of several, or (Pad) a constant. Let
//! `D(q) = (q − z)·s` (rounded to f32) and `Q(v) = saturate(round(v / s) + z)`; for an 8-bit `q`
//! and the same `s > 0`, `z`, `Q(D(q)) = q` (`|q − z| ≤ 255`, so the f32 product divided by `s`
//! is within a few units of roundoff of the integer `q − z`, far from a rounding boundary).
//! - a copy: `Q(D(q)) = q`;
//! - a max: `D` is strictly increasing, so `max D(qᵢ) = D(max qᵢ)` and `Q` of it is `max qᵢ`
//!   (MaxPool skips its padding, so no padding value takes part);
//! - Pad's constant `v` (constant mode): the float path writes `v` and its Q writes `Q(v)`, so the
//!   integer Pad fills with the constant `Q(v)` (an initializer of the quantized dtype). This is
//!   exact for every `v`, not only for `v` mapping to the zero point (`Q(0) = z`, the common case):
//!   no float reader sees the padding, only the Q. Edge, reflect and wrap padding copy elements.
//!
//! Refused, with the reason: a different scale, zero point or dtype on the two sides (that is a
//! requantization), per-axis parameters, a zero point left implicit, an output read by anything
//! but its one Q, Resize in linear mode (it interpolates), MaxPool's or Dropout's second output,
//! and a Pad constant computed at run time. The DQ stays when other nodes read its float output.

use super::{dequantize_producer, quantization_of, sole_consumer, Quantization};
use crate::graph::passes::{initializer, unique_name};
use crate::graph::{Graph, Node, Op};
use crate::ops::layout::PadMode;
use crate::ops::resize::ResizeMode;
use crate::tensor::quant::{quantize_i8, quantize_u8};
use crate::tensor::{DType, HostTensor, TensorData};

/// Whether [`plan`] handles `op`: it only moves or selects its input's values.
pub(super) fn moves_values(op: &Op) -> bool {
    matches!(
        op,
        Op::MaxPool(_)
            | Op::GlobalMaxPool
            | Op::Reshape { .. }
            | Op::Flatten { .. }
            | Op::Squeeze
            | Op::Unsqueeze
            | Op::Transpose { .. }
            | Op::Slice
            | Op::Split { .. }
            | Op::Resize(_)
            | Op::Pad { .. }
            | Op::Identity
            | Op::Dropout
    )
}

/// One lowering: the quantized input, the Q of each output (their outputs become the node's),
/// and for Pad the integer fill that replaces the float constant.
pub(super) struct PassthroughLowering {
    input: String,
    q_indices: Vec<usize>,
    outputs: Vec<String>,
    pad_fill: Option<(String, HostTensor, f64)>,
}

/// The lowering of the node at `index`, or why it stays float.
pub(super) fn plan(
    graph: &Graph,
    index: usize,
) -> std::result::Result<PassthroughLowering, String> {
    let node = &graph.nodes[index];
    check_op(node)?;
    let (dq, x_q) = node
        .input(0)
        .and_then(|x| dequantize_producer(graph, x))
        .ok_or("its input is not a DequantizeLinear output")?;
    let before = per_tensor_8bit(graph, dq)?;
    let mut q_indices = Vec::with_capacity(node.outputs.len());
    let mut outputs = Vec::with_capacity(node.outputs.len());
    for output in &node.outputs {
        let q_index = sole_consumer(graph, output)
            .filter(|&q| matches!(graph.nodes[q].op, Op::QuantizeLinear { .. }))
            .ok_or("an output does not feed exactly one QuantizeLinear")?;
        let after = per_tensor_8bit(graph, &graph.nodes[q_index])?;
        if (&before.scales, &before.zero_points, before.dtype)
            != (&after.scales, &after.zero_points, after.dtype)
        {
            return Err(DIFFER.into());
        }
        q_indices.push(q_index);
        outputs.push(graph.nodes[q_index].outputs[0].clone());
    }
    let pad_fill = match node.op {
        Op::Pad { mode } => pad_fill(graph, node, mode, &before)?,
        _ => None,
    };
    Ok(PassthroughLowering {
        input: x_q,
        q_indices,
        outputs,
        pad_fill,
    })
}

/// Points the node at the quantized input, gives it the Qs' outputs (and Pad its integer fill),
/// and removes the Qs.
pub(super) fn apply(graph: &mut Graph, index: usize, lowering: PassthroughLowering) {
    if let Some((name, fill, value)) = lowering.pad_fill {
        let pad = &mut graph.nodes[index];
        pad.op = Op::Pad {
            mode: PadMode::Constant(value),
        };
        pad.inputs.resize(pad.inputs.len().max(3), None);
        pad.inputs[2] = Some(name.clone());
        graph.initializers.insert(name, fill);
    }
    let node = &mut graph.nodes[index];
    node.inputs[0] = Some(lowering.input);
    node.outputs = lowering.outputs;
    let mut q_indices = lowering.q_indices;
    q_indices.sort_unstable_by(|a, b| b.cmp(a));
    for q_index in q_indices {
        graph.nodes.remove(q_index);
    }
}

/// The refusal when the two sides' quantizations differ.
const DIFFER: &str = "its DequantizeLinear and QuantizeLinear differ (or are not per-tensor \
                      int8/uint8 with explicit zero points)";

/// The op-specific conditions: one output where the op has an optional second, nearest Resize.
fn check_op(node: &Node) -> std::result::Result<(), String> {
    match &node.op {
        Op::MaxPool(_) if node.outputs.len() != 1 => Err("its indices output is used".into()),
        Op::Dropout if node.outputs.len() != 1 => Err("its mask output is used".into()),
        Op::Resize(attrs) if attrs.mode == ResizeMode::Linear => {
            Err("it interpolates (linear mode), which is not a copy of quantized values".into())
        }
        _ => Ok(()),
    }
}

/// The per-tensor int8/uint8 quantization of a Q or DQ with an explicit zero point.
pub(super) fn per_tensor_8bit(
    graph: &Graph,
    node: &Node,
) -> std::result::Result<Quantization, String> {
    let quantization = quantization_of(graph, node, None)?;
    let per_tensor = quantization.scales.len() == 1 && quantization.zero_points.len() == 1;
    let eight_bit = matches!(quantization.dtype, DType::I8 | DType::U8);
    if node.input(2).is_none() || !per_tensor || !eight_bit {
        return Err(DIFFER.into());
    }
    Ok(quantization)
}

/// For a constant-mode Pad, the initializer (name, value) holding `Q(v)` of its float constant `v`
/// and `Q(v)` itself; `None` for the modes that copy elements.
fn pad_fill(
    graph: &Graph,
    pad: &Node,
    mode: PadMode,
    quantization: &Quantization,
) -> std::result::Result<Option<(String, HostTensor, f64)>, String> {
    let PadMode::Constant(attribute) = mode else {
        return Ok(None);
    };
    let value = match pad.input(2) {
        None => attribute as f32,
        Some(name) => initializer(graph, Some(name))
            .and_then(HostTensor::as_f32)
            .filter(|values| values.len() == 1)
            .map(|values| values[0])
            .ok_or("its constant_value is not a constant f32 scalar")?,
    };
    let (scale, zero_point) = (quantization.scales[0], quantization.zero_points[0]);
    let (data, quantized) = match quantization.dtype {
        DType::I8 => {
            let q = quantize_i8(value, scale, zero_point as i8);
            (TensorData::I8(vec![q]), f64::from(q))
        }
        _ => {
            let q = quantize_u8(value, scale, zero_point as u8);
            (TensorData::U8(vec![q]), f64::from(q))
        }
    };
    let fill = HostTensor::new(&[], data).map_err(|error| error.to_string())?;
    let name = unique_name(graph, &format!("{}::quantized_constant", pad.name));
    Ok(Some((name, fill, quantized)))
}
