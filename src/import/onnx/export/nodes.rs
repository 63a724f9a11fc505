//! One kiln [`Node`] to its ONNX node(s). Integer ops go out as QDQ patterns (`integer.rs`); most
//! others map to one node of the same name with their attributes spelled out; three need more:
//! a fused `activation` becomes a following activation node, SiLU becomes `Sigmoid` then `Mul`,
//! and an opset < 13 Softmax (`coerce_2d`) becomes `Flatten`, `Softmax`, and a `Reshape` back to
//! the input's `Shape`.

use super::integer;
use super::writer::{
    bool_attribute, counts_attribute, float_attribute, int_attribute, ints_attribute,
    string_attribute, tensor_attribute, NodeWriter,
};
use crate::error::{Error, Result};
use crate::graph::{AutoPad, ConvAttrs, Graph, Node, Op, PoolAttrs, ResizeAttrs};
use crate::import::onnx::proto::AttributeProto;
use crate::import::onnx::tensor::{dtype_code, tensor_to_proto};
use crate::ops::elementwise::UnaryOp;
use crate::ops::layout::PadMode;
use crate::ops::resize::{CoordinateMode, NearestMode, ResizeMode};
use crate::ops::Activation;
use crate::tensor::HostTensor;

/// Writes `node` as ONNX node(s).
pub(crate) fn write_node(writer: &mut NodeWriter, graph: &Graph, node: &Node) -> Result<()> {
    let mut inputs: Vec<String> = node
        .inputs
        .iter()
        .map(|input| input.clone().unwrap_or_default())
        .collect();
    let outputs = node.outputs.clone();
    match &node.op {
        Op::QLinearConv(conv) if integer::writes_as_qdq(graph, node) => {
            return integer::write_qlinear_conv(writer, graph, node, conv);
        }
        Op::QLinearBinary { .. } | Op::QLinearConcat { .. } | Op::LookupTable { .. } => {
            return super::quantized_elementwise::write_quantized_elementwise(writer, node);
        }
        Op::Unary(UnaryOp::Activation(activation)) => {
            let (input, output) = single_io(node)?;
            return write_activation(writer, &node.name, (*activation).into(), input, output);
        }
        Op::QLinearAveragePool(_) | Op::QLinearGlobalAveragePool => {
            return super::qlinear_pool::write_qlinear_pool(writer, node);
        }
        Op::Softmax {
            axis,
            coerce_2d: true,
        }
        | Op::LogSoftmax {
            axis,
            coerce_2d: true,
        } => {
            return write_coerced_softmax(writer, node, *axis);
        }
        Op::Pad {
            mode: PadMode::Constant(value),
        } if *value != 0.0 && node.input(2).is_none() => {
            let fill = HostTensor::from_f32(&[], vec![*value as f32])?;
            let fill = writer.constant(&format!("{}::constant_value", node.name), &fill);
            if inputs.len() > 2 {
                inputs[2] = fill;
            } else {
                inputs.resize(2, String::new());
                inputs.push(fill);
            }
        }
        Op::QLinearMatMul { activation } => {
            return super::qlinear_matmul::write_expanded(writer, node, *activation);
        }
        _ => {}
    }
    let attributes = attributes(node, writer.opset)?;
    let activation = fused_activation(node)?;
    if activation == Activation::Identity {
        writer.emit(&node.name, node.op.name(), inputs, outputs, attributes);
        return Ok(());
    }
    let (_, output) = single_io(node)?;
    let preactivation = writer.fresh_name(&format!("{output}::preactivation"));
    writer.emit(
        &node.name,
        node.op.name(),
        inputs,
        vec![preactivation.clone()],
        attributes,
    );
    write_activation(
        writer,
        &format!("{}::activation", node.name),
        activation,
        preactivation,
        output,
    )
}

/// The activation fused into a Conv, ConvTranspose, MatMul or Gemm (`Identity` otherwise).
fn fused_activation(node: &Node) -> Result<Activation> {
    Ok(match &node.op {
        Op::Conv(conv) => conv.activation,
        Op::ConvTranspose(transpose) => transpose.conv.activation,
        Op::MatMul { activation } | Op::Gemm { activation, .. } => *activation,
        Op::QLinearConv(conv) if conv.activation != Activation::Identity => {
            return Err(unsupported(
                node,
                "a QLinearConv with a fused activation and scales fed at run time has no ONNX \
                 form",
            ));
        }
        _ => Activation::Identity,
    })
}

/// The ONNX attributes of `node` at `opset`.
fn attributes(node: &Node, opset: i64) -> Result<Vec<AttributeProto>> {
    Ok(match &node.op {
        Op::Unary(_) | Op::Binary(_) | Op::Clip | Op::Where | Op::Compare(_) | Op::Not => vec![],
        Op::MatMul { .. } | Op::MatMulInteger | Op::GlobalAveragePool | Op::GlobalMaxPool => vec![],
        Op::DynamicQuantizeLinear | Op::QLinearMatMul { .. } => vec![],
        // Written as several standard nodes by `quantized_elementwise.rs`, never as one.
        Op::QLinearBinary { .. } | Op::QLinearConcat { .. } | Op::LookupTable { .. } => vec![],
        Op::Slice
        | Op::Squeeze
        | Op::Unsqueeze
        | Op::Expand
        | Op::Range
        | Op::Identity
        | Op::Dropout => vec![],
        Op::Variadic(_) => vec![],
        Op::Cast { to } => vec![int_attribute("to", i64::from(dtype_code(*to)))],
        Op::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
            ..
        } => vec![
            float_attribute("alpha", *alpha),
            float_attribute("beta", *beta),
            bool_attribute("transA", *trans_a),
            bool_attribute("transB", *trans_b),
        ],
        Op::Conv(conv) | Op::QLinearConv(conv) => conv_attributes(conv),
        Op::ConvTranspose(transpose) => {
            let mut list = conv_attributes(&transpose.conv);
            nonempty(&mut list, "output_padding", &transpose.output_padding);
            nonempty(&mut list, "output_shape", &transpose.output_shape);
            list
        }
        Op::QuantizeLinear { axis, saturate } => {
            let mut list = vec![int_attribute("axis", *axis)];
            if opset >= 19 {
                list.push(bool_attribute("saturate", *saturate));
            }
            list
        }
        Op::DequantizeLinear { axis } => vec![int_attribute("axis", *axis)],
        Op::MaxPool(pool) => pool_attributes(pool, false),
        Op::AveragePool(pool) | Op::QLinearAveragePool(pool) => pool_attributes(pool, true),
        Op::QLinearGlobalAveragePool => vec![],
        Op::BatchNormalization { epsilon } => vec![float_attribute("epsilon", *epsilon)],
        Op::LayerNormalization { axis, epsilon } => {
            vec![
                int_attribute("axis", *axis),
                float_attribute("epsilon", *epsilon),
            ]
        }
        Op::Lrn(lrn) => vec![
            int_attribute("size", lrn.size as i64),
            float_attribute("alpha", lrn.alpha),
            float_attribute("beta", lrn.beta),
            float_attribute("bias", lrn.bias),
        ],
        Op::Softmax { axis, .. } | Op::LogSoftmax { axis, .. } => {
            vec![int_attribute("axis", *axis)]
        }
        Op::Reduce {
            keepdims,
            noop_with_empty_axes,
            ..
        } => {
            let mut list = vec![bool_attribute("keepdims", *keepdims)];
            if *noop_with_empty_axes {
                list.push(bool_attribute("noop_with_empty_axes", true));
            }
            list
        }
        Op::ArgMax {
            axis,
            keepdims,
            select_last_index,
        } => vec![
            int_attribute("axis", *axis),
            bool_attribute("keepdims", *keepdims),
            bool_attribute("select_last_index", *select_last_index),
        ],
        Op::Resize(resize) => resize_attributes(resize),
        Op::Concat { axis } | Op::Flatten { axis } | Op::Gather { axis } => {
            vec![int_attribute("axis", *axis)]
        }
        Op::Split { axis, num_outputs } => {
            let mut list = vec![int_attribute("axis", *axis)];
            if let (Some(count), true, None) = (num_outputs, opset >= 18, node.input(1)) {
                list.push(int_attribute(
                    "num_outputs",
                    i64::try_from(*count).unwrap_or(i64::MAX),
                ));
            }
            list
        }
        Op::Transpose { perm } => perm
            .iter()
            .map(|perm| counts_attribute("perm", perm))
            .collect(),
        Op::Pad { mode } => vec![string_attribute("mode", pad_mode_name(*mode))],
        Op::Reshape { allowzero } => vec![bool_attribute("allowzero", *allowzero)],
        Op::Shape { start, end } => {
            let mut list = vec![int_attribute("start", *start)];
            list.extend(end.map(|end| int_attribute("end", end)));
            list
        }
        Op::ConstantOfShape { value } => {
            vec![tensor_attribute("value", tensor_to_proto("value", value))]
        }
    })
}

pub(super) fn conv_attributes(conv: &ConvAttrs) -> Vec<AttributeProto> {
    let mut list = vec![int_attribute(
        "group",
        i64::try_from(conv.group).unwrap_or(i64::MAX),
    )];
    nonempty(&mut list, "kernel_shape", &conv.kernel_shape);
    nonempty(&mut list, "strides", &conv.strides);
    explicit_pads(&mut list, conv.auto_pad, &conv.pads);
    nonempty(&mut list, "dilations", &conv.dilations);
    list.extend(auto_pad_attribute(conv.auto_pad));
    list
}

pub(super) fn pool_attributes(pool: &PoolAttrs, average: bool) -> Vec<AttributeProto> {
    let mut list = vec![bool_attribute("ceil_mode", pool.ceil_mode)];
    nonempty(&mut list, "kernel_shape", &pool.kernel_shape);
    nonempty(&mut list, "strides", &pool.strides);
    explicit_pads(&mut list, pool.auto_pad, &pool.pads);
    if !average || pool.dilations.iter().any(|&dilation| dilation != 1) {
        nonempty(&mut list, "dilations", &pool.dilations);
    }
    if average {
        list.push(bool_attribute("count_include_pad", pool.count_include_pad));
    }
    list.extend(auto_pad_attribute(pool.auto_pad));
    list
}

fn nonempty(list: &mut Vec<AttributeProto>, name: &str, values: &[usize]) {
    if !values.is_empty() {
        list.push(counts_attribute(name, values));
    }
}

/// `pads`, which ONNX forbids beside an `auto_pad` other than NOTSET.
fn explicit_pads(list: &mut Vec<AttributeProto>, auto_pad: AutoPad, pads: &[usize]) {
    if auto_pad == AutoPad::NotSet {
        nonempty(list, "pads", pads);
    }
}

fn auto_pad_attribute(auto_pad: AutoPad) -> Option<AttributeProto> {
    let name = match auto_pad {
        AutoPad::NotSet => return None,
        AutoPad::SameUpper => "SAME_UPPER",
        AutoPad::SameLower => "SAME_LOWER",
        AutoPad::Valid => "VALID",
    };
    Some(string_attribute("auto_pad", name))
}

fn resize_attributes(resize: &ResizeAttrs) -> Vec<AttributeProto> {
    let coordinates = match resize.coordinates {
        CoordinateMode::HalfPixel => "half_pixel",
        CoordinateMode::HalfPixelSymmetric => "half_pixel_symmetric",
        CoordinateMode::PytorchHalfPixel => "pytorch_half_pixel",
        CoordinateMode::AlignCorners => "align_corners",
        CoordinateMode::Asymmetric => "asymmetric",
        CoordinateMode::TfHalfPixelForNn => "tf_half_pixel_for_nn",
    };
    let mut list = vec![string_attribute(
        "coordinate_transformation_mode",
        coordinates,
    )];
    match resize.mode {
        ResizeMode::Linear => list.push(string_attribute("mode", "linear")),
        ResizeMode::Nearest(rounding) => {
            list.push(string_attribute("mode", "nearest"));
            let rounding = match rounding {
                NearestMode::RoundPreferFloor => "round_prefer_floor",
                NearestMode::RoundPreferCeil => "round_prefer_ceil",
                NearestMode::Floor => "floor",
                NearestMode::Ceil => "ceil",
            };
            list.push(string_attribute("nearest_mode", rounding));
        }
    }
    if !resize.axes.is_empty() {
        list.push(ints_attribute("axes", &resize.axes));
    }
    list
}

fn pad_mode_name(mode: PadMode) -> &'static str {
    match mode {
        PadMode::Constant(_) => "constant",
        PadMode::Reflect => "reflect",
        PadMode::Edge => "edge",
        PadMode::Wrap => "wrap",
    }
}

/// An activation from `input` to `output` as ONNX node(s) named from `name`.
pub(super) fn write_activation(
    writer: &mut NodeWriter,
    name: &str,
    activation: Activation,
    input: String,
    output: String,
) -> Result<()> {
    let (op_type, attributes) = match activation {
        Activation::Identity => ("Identity", vec![]),
        Activation::Relu => ("Relu", vec![]),
        Activation::Sigmoid => ("Sigmoid", vec![]),
        Activation::Tanh => ("Tanh", vec![]),
        Activation::HardSwish => ("HardSwish", vec![]),
        Activation::Softplus => ("Softplus", vec![]),
        Activation::Gelu => ("Gelu", vec![]),
        Activation::LeakyRelu { alpha } => ("LeakyRelu", vec![float_attribute("alpha", alpha)]),
        Activation::HardSigmoid { alpha, beta } => (
            "HardSigmoid",
            vec![
                float_attribute("alpha", alpha),
                float_attribute("beta", beta),
            ],
        ),
        Activation::Clip { min, max } => {
            let min = writer.constant(
                &format!("{name}::min"),
                &HostTensor::from_f32(&[], vec![min])?,
            );
            let max = writer.constant(
                &format!("{name}::max"),
                &HostTensor::from_f32(&[], vec![max])?,
            );
            writer.emit(name, "Clip", vec![input, min, max], vec![output], vec![]);
            return Ok(());
        }
        Activation::Silu => {
            let sigmoid = writer.fresh_name(&format!("{output}::sigmoid"));
            writer.emit(
                &format!("{name}::sigmoid"),
                "Sigmoid",
                vec![input.clone()],
                vec![sigmoid.clone()],
                vec![],
            );
            writer.emit(name, "Mul", vec![input, sigmoid], vec![output], vec![]);
            return Ok(());
        }
    };
    writer.emit(name, op_type, vec![input], vec![output], attributes);
    Ok(())
}

/// Opset < 13 Softmax / LogSoftmax: normalise the 2-D view `Flatten(axis)` over its last axis,
/// then reshape to the input's shape.
fn write_coerced_softmax(writer: &mut NodeWriter, node: &Node, axis: i64) -> Result<()> {
    let (input, output) = single_io(node)?;
    let shape = writer.fresh_name(&format!("{output}::input_shape"));
    let flat = writer.fresh_name(&format!("{output}::flat"));
    let normalised = writer.fresh_name(&format!("{output}::flat_normalised"));
    let name = &node.name;
    writer.emit(
        &format!("{name}::shape"),
        "Shape",
        vec![input.clone()],
        vec![shape.clone()],
        vec![],
    );
    writer.emit(
        &format!("{name}::flatten"),
        "Flatten",
        vec![input],
        vec![flat.clone()],
        vec![int_attribute("axis", axis)],
    );
    writer.emit(
        name,
        node.op.name(),
        vec![flat],
        vec![normalised.clone()],
        vec![int_attribute("axis", 1)],
    );
    writer.emit(
        &format!("{name}::reshape"),
        "Reshape",
        vec![normalised, shape],
        vec![output],
        vec![],
    );
    Ok(())
}

/// The one input and one output of a unary node.
fn single_io(node: &Node) -> Result<(String, String)> {
    match (node.input(0), node.outputs.as_slice()) {
        (Some(input), [output]) => Ok((input.to_string(), output.clone())),
        _ => Err(Error::InvalidModel {
            location: node.location(),
            detail: "needs one input and one output".into(),
        }),
    }
}

pub(super) fn unsupported(node: &Node, detail: &str) -> Error {
    Error::Unsupported {
        location: node.location(),
        detail: detail.to_string(),
    }
}
