//! Integer ops back to standard ONNX QDQ: an op that kiln runs on quantized values (the lowering
//! of `src/graph/passes/qdq/` wrote it) is exported as the float op it came from, between a
//! `DequantizeLinear` per quantized input and one `QuantizeLinear` on the output, so any ONNX
//! tool reads it as the QDQ pattern a quantizer writes (onnxruntime fuses it back into its own
//! integer kernel). The float op between them is exactly what the lowering replaced, so
//! re-importing the export and lowering it again gives the same integer op.
//!
//! `QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, b?)` becomes
//! `DQ(x) → Conv(DQ(w), DQ(b)) → [activation] → Q(y_scale, y_zp)`. ONNX gives the int32 bias of
//! QLinearConv the scale `x_scale · w_scale[m]`; the bias DequantizeLinear gets that f32 product
//! as its scale (the product onnxruntime's quantizer writes), so it dequantizes to the same f32
//! bias.

use super::nodes::{conv_attributes, unsupported, write_activation};
use super::writer::{int_attribute, NodeWriter};
use crate::error::{Error, Result};
use crate::graph::{ConvAttrs, Graph, Node};
use crate::ops::Activation;
use crate::tensor::{HostTensor, TensorData};

/// A quantized input of an integer node: the indices of its value, scale and zero point.
struct Operand {
    value: usize,
    scale: usize,
    zero_point: usize,
}

/// Whether QLinearConv `node` can be written as QDQ: its scales are constants (the bias
/// DequantizeLinear's scale is their product, and a per-channel weight scale sets the weight
/// DequantizeLinear's axis). One fed at run time (as an imported QLinearConv may have) is written
/// as the standard QLinearConv itself.
pub(super) fn writes_as_qdq(graph: &Graph, node: &Node) -> bool {
    [1, 4].iter().all(|&index| {
        node.input(index)
            .is_some_and(|name| graph.initializers.contains_key(name))
    })
}

/// QLinearConv as `DQ → Conv → [activation] → Q` (see the module doc).
pub(super) fn write_qlinear_conv(
    writer: &mut NodeWriter,
    graph: &Graph,
    node: &Node,
    conv: &ConvAttrs,
) -> Result<()> {
    let [output] = node.outputs.as_slice() else {
        return Err(invalid(node, "a QLinearConv has one output"));
    };
    let x = Operand {
        value: 0,
        scale: 1,
        zero_point: 2,
    };
    let x = dequantize(writer, graph, node, &x, None)?;
    let weight = Operand {
        value: 3,
        scale: 4,
        zero_point: 5,
    };
    let w = dequantize(writer, graph, node, &weight, Some(0))?;
    let mut inputs = vec![x, w];
    if let Some(bias) = node.input(8) {
        inputs.push(dequantize_bias(writer, graph, node, bias)?);
    }
    let convolved = writer.fresh_name(&format!("{output}::float"));
    writer.emit(
        &format!("{}::conv", node.name),
        "Conv",
        inputs,
        vec![convolved.clone()],
        conv_attributes(conv),
    );
    let activated = match conv.activation {
        Activation::Identity => convolved,
        activation => {
            let activated = writer.fresh_name(&format!("{output}::activated"));
            let name = format!("{}::activation", node.name);
            write_activation(writer, &name, activation, convolved, activated.clone())?;
            activated
        }
    };
    let mut q_inputs = vec![activated, required(node, 6)?];
    q_inputs.extend(node.input(7).map(str::to_string));
    writer.emit(
        &format!("{}::quantize", node.name),
        "QuantizeLinear",
        q_inputs,
        vec![output.clone()],
        vec![],
    );
    Ok(())
}

/// Emits `DequantizeLinear` of the operand of `node` at `operand`'s indices and returns the float
/// value's name. With a 1-D scale of several values the dequantization is per axis along `axis`;
/// a scalar zero point beside such a scale is broadcast to one per channel (ONNX wants the same
/// shape), and an absent one stays absent (zero).
fn dequantize(
    writer: &mut NodeWriter,
    graph: &Graph,
    node: &Node,
    operand: &Operand,
    axis: Option<i64>,
) -> Result<String> {
    let value = required(node, operand.value)?;
    let scale = required(node, operand.scale)?;
    let per_axis = match (axis, graph.initializers.get(&scale)) {
        (Some(axis), Some(scales)) if scales.shape().len() == 1 && scales.len() > 1 => {
            Some((axis, scales.len()))
        }
        (Some(_), None) => return Err(invalid(node, "its weight scale is not a constant")),
        _ => None,
    };
    let mut inputs = vec![value.clone(), scale];
    if let Some(zero_point) = node.input(operand.zero_point) {
        inputs.push(match per_axis {
            Some((_, channels)) => {
                per_channel_zero_point(writer, graph, node, zero_point, channels)?
            }
            None => zero_point.to_string(),
        });
    }
    let float = writer.fresh_name(&format!("{value}::dequantized"));
    let attributes = per_axis
        .map(|(axis, _)| int_attribute("axis", axis))
        .into_iter()
        .collect();
    writer.emit(
        &format!("{}::dequantize_{value}", node.name),
        "DequantizeLinear",
        inputs,
        vec![float.clone()],
        attributes,
    );
    Ok(float)
}

/// `zero_point` (an initializer) with one value per channel: itself when it already has
/// `channels` values, else its single value repeated under a new name.
fn per_channel_zero_point(
    writer: &mut NodeWriter,
    graph: &Graph,
    node: &Node,
    zero_point: &str,
    channels: usize,
) -> Result<String> {
    let values = (graph.initializers.get(zero_point))
        .ok_or_else(|| invalid(node, "its weight zero point is not a constant"))?;
    if values.len() == channels {
        return Ok(zero_point.to_string());
    }
    let repeated = match values.data() {
        TensorData::I8(one) if one.len() == 1 => TensorData::I8(vec![one[0]; channels]),
        TensorData::U8(one) if one.len() == 1 => TensorData::U8(vec![one[0]; channels]),
        _ => {
            return Err(invalid(
                node,
                "its weight zero point is neither one value nor one per channel",
            ))
        }
    };
    let tensor = HostTensor::new(&[channels], repeated)?;
    Ok(writer.constant(&format!("{zero_point}::per_channel"), &tensor))
}

/// Emits the int32 bias's `DequantizeLinear` with scale `x_scale · w_scale[m]`; returns the
/// float bias's name.
fn dequantize_bias(
    writer: &mut NodeWriter,
    graph: &Graph,
    node: &Node,
    bias: &str,
) -> Result<String> {
    let constant = |index: usize, what: &str| {
        node.input(index)
            .and_then(|name| graph.initializers.get(name))
            .and_then(HostTensor::as_f32)
            .ok_or_else(|| invalid(node, &format!("its {what} is not a constant f32")))
    };
    let (x_scale, w_scale) = (constant(1, "input scale")?, constant(4, "weight scale")?);
    let [x_scale] = x_scale else {
        return Err(invalid(node, "its input scale is not one value"));
    };
    let products: Vec<f32> = w_scale.iter().map(|w| x_scale * w).collect();
    let scale = match products.as_slice() {
        [one] => HostTensor::from_f32(&[], vec![*one])?,
        many => HostTensor::from_f32(&[many.len()], many.to_vec())?,
    };
    let per_axis = scale.shape().len() == 1;
    let scale = writer.constant(&format!("{bias}::scale"), &scale);
    let float = writer.fresh_name(&format!("{bias}::dequantized"));
    let attributes = per_axis
        .then(|| int_attribute("axis", 0))
        .into_iter()
        .collect();
    writer.emit(
        &format!("{}::dequantize_bias", node.name),
        "DequantizeLinear",
        vec![bias.to_string(), scale],
        vec![float.clone()],
        attributes,
    );
    Ok(float)
}

/// The name of `node`'s input `index`, which must be present.
fn required(node: &Node, index: usize) -> Result<String> {
    node.input(index)
        .map(str::to_string)
        .ok_or_else(|| invalid(node, &format!("its input {index} is missing")))
}

fn invalid(node: &Node, detail: &str) -> Error {
    unsupported(node, &format!("exporting it to ONNX QDQ: {detail}"))
}
