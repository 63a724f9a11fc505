//! `DQ(x_q), DQ(w_q), [DQ(b_q)] → Conv → [Relu] → Q` ⇒ `QLinearConv(x_q, …, b_q)`.
//!
//! What makes it exact: with `x = (x_q − x_zp)·x_scale`, `w = w_q·w_scale[m]` (int8 weights, zero
//! point 0) and `b = b_q·x_scale·w_scale[m]`, the float conv equals `acc·x_scale·w_scale[m]` for
//! the integer accumulator `acc = Σ (x_q − x_zp)·w_q + b_q`, and the Q after it computes
//! `saturate(round(acc·x_scale·w_scale[m] / y_scale) + y_zp)`, which QLinearConv computes from the
//! accumulator with the multiplier `x_scale·w_scale[m]/y_scale` in f32. The two differ only in
//! where f32 rounds (the float path rounds every partial sum, the integer path only the final
//! product), so by at most one output step where a value lies near a rounding boundary. A Relu
//! before the Q is exact as a clamp at `y_zp` (round and saturate are monotone and map 0 to
//! `y_zp`), fused as QLinearConv's `Relu` activation.

use super::{dequantize_producer, quantization_of, sole_consumer, Quantization};
use crate::error::Result;
use crate::graph::passes::{initializer, unique_name};
use crate::graph::{ConvAttrs, Graph, Node, Op};
use crate::ops::conv::MAX_Q8_K;
use crate::ops::elementwise::UnaryOp;
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::{DType, HostTensor, TensorData};

/// The relative difference allowed between a bias DequantizeLinear's scale and `x_scale ·
/// w_scale[m]` (onnxruntime writes exactly that f32 product; 2⁻²² leaves room for a product
/// formed in another order, and changes the float bias by far less than one output step).
const BIAS_SCALE_RELATIVE_TOLERANCE: f32 = 1.0 / 4_194_304.0;

/// One Conv's lowering, decided: the QLinearConv's inputs, activation and output, and the nodes
/// it replaces after the Conv (the Relu, if any, and the Q).
pub(super) struct ConvLowering {
    inputs: Vec<Option<String>>,
    synthesized: Vec<(String, HostTensor)>,
    relu: bool,
    output: String,
    replaced: Vec<usize>,
}

/// A reason a Conv stays in float.
type Refusal = std::result::Result<ConvLowering, String>;

/// The lowering of the Conv at `index`, or why it stays float.
pub(super) fn plan(graph: &Graph, index: usize) -> Result<Refusal> {
    let conv = &graph.nodes[index];
    let Op::Conv(attrs) = &conv.op else {
        return Ok(Err("not a Conv".into()));
    };
    if attrs.activation != Activation::Identity || conv.outputs.len() != 1 {
        return Ok(Err("it has a fused activation or several outputs".into()));
    }
    Ok(plan_conv(graph, conv))
}

fn plan_conv(graph: &Graph, conv: &Node) -> Refusal {
    let (x_dq, x_q) = conv
        .input(0)
        .and_then(|x| dequantize_producer(graph, x))
        .ok_or("its input is not a DequantizeLinear output")?;
    let x_quant = activation_quantization(graph, x_dq, "input")?;
    let (w_dq, w_q) = conv
        .input(1)
        .and_then(|w| dequantize_producer(graph, w))
        .ok_or("its weight is not a DequantizeLinear output")?;
    let weight = initializer(graph, Some(&w_q))
        .filter(|w| w.dtype() == DType::I8 && w.shape().len() == 4)
        .ok_or("its weight is not a 4-D int8 initializer")?;
    let out_channels = weight.shape()[0];
    let w_quant = quantization_of(graph, w_dq, Some(weight))?;
    check_weight(&w_quant, out_channels)?;
    let reduction: usize = weight.shape()[1..].iter().product();
    if reduction > MAX_Q8_K {
        return Err(format!("its reduction {reduction} exceeds {MAX_Q8_K}"));
    }
    let bias = match conv.input(2) {
        None => None,
        Some(b) => Some(bias_input(graph, b, &x_quant, &w_quant, out_channels)?),
    };
    let (relu, q, replaced) = output_quantize(graph, conv)?;
    let mut synthesized = Vec::new();
    let w_zero_point = match w_dq.input(2) {
        Some(name) => name.to_string(),
        None => {
            let name = unique_name(graph, &format!("{}::w_zero_point", conv.name));
            let zero = HostTensor::new(&[], TensorData::I8(vec![0]));
            synthesized.push((name.clone(), zero.map_err(|error| error.to_string())?));
            name
        }
    };
    let input = |node: &Node, index: usize| node.input(index).map(str::to_string);
    let inputs = vec![
        Some(x_q),
        input(x_dq, 1),
        input(x_dq, 2),
        Some(w_q),
        input(w_dq, 1),
        Some(w_zero_point),
        input(q, 1),
        input(q, 2),
        bias,
    ];
    Ok(ConvLowering {
        inputs,
        synthesized,
        relu,
        output: q.outputs[0].clone(),
        replaced,
    })
}

/// The per-tensor int8 or uint8 quantization of a Conv's input DQ or output Q, with an explicit
/// constant zero point (whose dtype is the activation's).
pub(super) fn activation_quantization(
    graph: &Graph,
    node: &Node,
    what: &str,
) -> std::result::Result<Quantization, String> {
    let quant = quantization_of(graph, node, None)?;
    if node.input(2).is_none() || quant.scales.len() != 1 || quant.zero_points.len() != 1 {
        return Err(format!(
            "its {what} quantization ('{}') is not per-tensor with a constant zero point",
            node.name
        ));
    }
    if !matches!(quant.dtype, DType::I8 | DType::U8) {
        return Err(format!("its {what} is quantized to {}", quant.dtype));
    }
    Ok(quant)
}

/// Int8 weights with zero point 0 and one scale, or one per output channel along axis 0.
fn check_weight(quant: &Quantization, out_channels: usize) -> std::result::Result<(), String> {
    if quant.dtype != DType::I8 || quant.zero_points.iter().any(|&zero| zero != 0) {
        return Err("its weight is not symmetric int8 (zero point 0)".into());
    }
    let per_tensor = quant.scales.len() == 1;
    let per_channel = quant.scales.len() == out_channels && matches!(quant.axis, 0 | -4);
    if !(per_tensor || per_channel) {
        return Err("its weight scales are neither per-tensor nor per output channel".into());
    }
    Ok(())
}

/// The int32 bias initializer under a bias DequantizeLinear whose scale is `x_scale · w_scale[m]`.
pub(super) fn bias_input(
    graph: &Graph,
    bias: &str,
    x_quant: &Quantization,
    w_quant: &Quantization,
    out_channels: usize,
) -> std::result::Result<String, String> {
    let (b_dq, b_q) =
        dequantize_producer(graph, bias).ok_or("its bias is not a DequantizeLinear output")?;
    let values = initializer(graph, Some(&b_q))
        .filter(|b| b.dtype() == DType::I32 && b.shape() == [out_channels])
        .ok_or("its bias is not an int32 initializer with one value per output channel")?;
    let quant = quantization_of(graph, b_dq, Some(values))?;
    if quant.zero_points.iter().any(|&zero| zero != 0) {
        return Err("its bias has a nonzero zero point".into());
    }
    let scale_at = |scales: &[f32], m: usize| scales[if scales.len() == 1 { 0 } else { m }];
    let matches = (quant.scales.len() == 1 || quant.scales.len() == out_channels)
        && (0..out_channels).all(|m| {
            let expected = x_quant.scales[0] * scale_at(&w_quant.scales, m);
            let got = scale_at(&quant.scales, m);
            (got - expected).abs() <= BIAS_SCALE_RELATIVE_TOLERANCE * expected.abs()
        });
    if !matches {
        return Err("its bias scale is not input scale × weight scale".into());
    }
    Ok(b_q)
}

/// The saturating per-tensor QuantizeLinear `node`'s output reaches through an optional Relu:
/// (relu, the Q, the indices of the nodes the integer op replaces after `node`), or why there is
/// none. Conv and MatMul/Gemm lowering share it.
pub(super) fn output_quantize<'g>(
    graph: &'g Graph,
    node: &Node,
) -> std::result::Result<(bool, &'g Node, Vec<usize>), String> {
    let (relu, q_index, replaced) = consumers(graph, &node.outputs[0])?;
    let q = &graph.nodes[q_index];
    activation_quantization(graph, q, "output")?;
    if matches!(
        q.op,
        Op::QuantizeLinear {
            saturate: false,
            ..
        }
    ) {
        return Err("its QuantizeLinear does not saturate".into());
    }
    Ok((relu, q, replaced))
}

/// Follows the Conv's output to its QuantizeLinear, through an optional Relu: (relu, the Q's
/// index, the indices of the nodes the QLinearConv replaces after the Conv).
fn consumers(
    graph: &Graph,
    output: &str,
) -> std::result::Result<(bool, usize, Vec<usize>), String> {
    let not_quantized = || "its output does not feed exactly one QuantizeLinear".to_string();
    let next = sole_consumer(graph, output).ok_or_else(not_quantized)?;
    let relu_op = Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu));
    let (relu, q_index) = if graph.nodes[next].op == relu_op {
        let relu_output = &graph.nodes[next].outputs[0];
        (
            true,
            sole_consumer(graph, relu_output).ok_or_else(not_quantized)?,
        )
    } else {
        (false, next)
    };
    let q = &graph.nodes[q_index];
    let reads_output = q.input(0) == Some(graph.nodes[next].outputs[0].as_str())
        || (!relu && q.input(0) == Some(output));
    if !matches!(q.op, Op::QuantizeLinear { .. }) || !reads_output {
        return Err(not_quantized());
    }
    let replaced = if relu {
        vec![next, q_index]
    } else {
        vec![q_index]
    };
    Ok((relu, q_index, replaced))
}

/// Replaces the Conv at `index` by its QLinearConv and removes the Relu and Q it absorbs.
pub(super) fn apply(graph: &mut Graph, index: usize, lowering: ConvLowering) {
    let Op::Conv(attrs) = &graph.nodes[index].op else {
        return;
    };
    let activation = if lowering.relu {
        Activation::Relu
    } else {
        Activation::Identity
    };
    let attrs = ConvAttrs {
        activation,
        ..attrs.clone()
    };
    graph.initializers.extend(lowering.synthesized);
    let conv = &mut graph.nodes[index];
    conv.op = Op::QLinearConv(attrs);
    conv.inputs = lowering.inputs;
    while conv.inputs.last().is_some_and(Option::is_none) {
        conv.inputs.pop();
    }
    conv.outputs = vec![lowering.output];
    let mut replaced = lowering.replaced;
    replaced.sort_unstable_by(|a, b| b.cmp(a));
    for removed in replaced {
        graph.nodes.remove(removed);
    }
}
