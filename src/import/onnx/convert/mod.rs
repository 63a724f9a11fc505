//! ONNX nodes to kiln [`Op`]s, one converter per op family, each filling ONNX's defaults and
//! normalising every opset to the single form [`Op`] documents (old-opset attributes become
//! synthesised initializer inputs). The table below is the whole op set: anything else is an
//! [`Error::Unsupported`] naming the node and the opset.

mod context;
mod conv;
mod elementwise;
mod layout;
mod legacy;
mod linear;
mod reduce;
mod resize;

pub(crate) use context::{ModelState, NodeContext};

use crate::error::{Error, Result};
use crate::graph::{Node, Op};
use crate::import::onnx::proto::NodeProto;

/// The ONNX op types (domain `ai.onnx`) the importer converts, `Constant` included (it becomes
/// an initializer).
pub const SUPPORTED_OPS: &[&str] = &[
    "Abs",
    "Add",
    "ArgMax",
    "AveragePool",
    "BatchNormalization",
    "Cast",
    "Clip",
    "Concat",
    "Constant",
    "ConstantOfShape",
    "Conv",
    "ConvTranspose",
    "DequantizeLinear",
    "Div",
    "Dropout",
    "Equal",
    "Exp",
    "Expand",
    "Flatten",
    "Gather",
    "Gelu",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Greater",
    "GreaterOrEqual",
    "HardSigmoid",
    "HardSwish",
    "Identity",
    "LayerNormalization",
    "LeakyRelu",
    "Less",
    "LessOrEqual",
    "LRN",
    "Log",
    "LogSoftmax",
    "MatMul",
    "MatMulInteger",
    "Max",
    "MaxPool",
    "Min",
    "Mul",
    "Neg",
    "Not",
    "Pad",
    "Pow",
    "QLinearConv",
    "QuantizeLinear",
    "Range",
    "ReduceMax",
    "ReduceMean",
    "ReduceSum",
    "Relu",
    "Reshape",
    "Resize",
    "Shape",
    "Sigmoid",
    "Slice",
    "Softmax",
    "Softplus",
    "Split",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Sum",
    "Tanh",
    "Transpose",
    "Unsqueeze",
    "Upsample",
    "Where",
];

/// Which outputs an op has: the ones kiln computes, and how many ONNX allows.
#[derive(Clone, Copy)]
enum Outputs {
    /// Exactly one.
    One,
    /// One computed, up to this many declared (the rest must be unread).
    FirstOf(usize),
    /// Any number, all computed (Split).
    All,
}

type Converter = fn(&mut NodeContext) -> Result<Op>;

/// `(op type, first opset that defines it, outputs, converter)`.
const CONVERTERS: &[(&str, i64, Outputs, Converter)] = &[
    ("Abs", 1, Outputs::One, elementwise::unary),
    ("Exp", 1, Outputs::One, elementwise::unary),
    ("Log", 1, Outputs::One, elementwise::unary),
    ("Neg", 1, Outputs::One, elementwise::unary),
    ("Sqrt", 1, Outputs::One, elementwise::unary),
    ("Relu", 1, Outputs::One, elementwise::unary),
    ("LeakyRelu", 1, Outputs::One, elementwise::unary),
    ("Sigmoid", 1, Outputs::One, elementwise::unary),
    ("Tanh", 1, Outputs::One, elementwise::unary),
    ("HardSigmoid", 1, Outputs::One, elementwise::unary),
    ("HardSwish", 14, Outputs::One, elementwise::unary),
    ("Gelu", 20, Outputs::One, elementwise::unary),
    ("Softplus", 1, Outputs::One, elementwise::unary),
    ("Add", 1, Outputs::One, elementwise::binary),
    ("Sub", 1, Outputs::One, elementwise::binary),
    ("Mul", 1, Outputs::One, elementwise::binary),
    ("Div", 1, Outputs::One, elementwise::binary),
    ("Pow", 1, Outputs::One, elementwise::binary),
    ("Min", 1, Outputs::One, elementwise::variadic),
    ("Max", 1, Outputs::One, elementwise::variadic),
    ("Sum", 1, Outputs::One, elementwise::variadic),
    ("Equal", 1, Outputs::One, elementwise::compare),
    ("Less", 1, Outputs::One, elementwise::compare),
    ("LessOrEqual", 12, Outputs::One, elementwise::compare),
    ("Greater", 1, Outputs::One, elementwise::compare),
    ("GreaterOrEqual", 12, Outputs::One, elementwise::compare),
    ("Not", 1, Outputs::One, elementwise::not),
    ("Where", 9, Outputs::One, elementwise::select),
    ("Cast", 1, Outputs::One, elementwise::cast),
    ("Clip", 1, Outputs::One, elementwise::clip),
    ("MatMul", 1, Outputs::One, linear::matmul),
    ("Gemm", 1, Outputs::One, linear::gemm),
    ("MatMulInteger", 10, Outputs::One, linear::matmul_integer),
    ("QuantizeLinear", 10, Outputs::One, linear::quantize),
    ("DequantizeLinear", 10, Outputs::One, linear::dequantize),
    ("Conv", 1, Outputs::One, conv::conv),
    ("ConvTranspose", 1, Outputs::One, conv::conv_transpose),
    ("QLinearConv", 10, Outputs::One, conv::qlinear_conv),
    ("MaxPool", 1, Outputs::FirstOf(2), conv::pool),
    ("AveragePool", 1, Outputs::One, conv::pool),
    ("GlobalAveragePool", 1, Outputs::One, conv::global_pool),
    ("GlobalMaxPool", 1, Outputs::One, conv::global_pool),
    (
        "BatchNormalization",
        1,
        Outputs::FirstOf(5),
        reduce::batch_norm,
    ),
    (
        "LayerNormalization",
        17,
        Outputs::FirstOf(3),
        reduce::layer_norm,
    ),
    ("LRN", 1, Outputs::One, reduce::lrn),
    ("Softmax", 1, Outputs::One, reduce::softmax),
    ("LogSoftmax", 1, Outputs::One, reduce::softmax),
    ("ReduceSum", 1, Outputs::One, reduce::reduce),
    ("ReduceMean", 1, Outputs::One, reduce::reduce),
    ("ReduceMax", 1, Outputs::One, reduce::reduce),
    ("ArgMax", 1, Outputs::One, reduce::arg_max),
    ("Resize", 10, Outputs::One, resize::resize),
    ("Upsample", 7, Outputs::One, resize::upsample),
    ("Concat", 1, Outputs::One, layout::concat),
    ("Split", 1, Outputs::All, layout::split),
    ("Slice", 1, Outputs::One, layout::slice),
    ("Transpose", 1, Outputs::One, layout::transpose),
    ("Pad", 1, Outputs::One, layout::pad),
    ("Reshape", 5, Outputs::One, layout::reshape),
    ("Flatten", 1, Outputs::One, layout::flatten),
    ("Squeeze", 1, Outputs::One, layout::squeeze),
    ("Unsqueeze", 1, Outputs::One, layout::unsqueeze),
    ("Expand", 8, Outputs::One, layout::expand),
    ("Gather", 1, Outputs::One, layout::gather),
    ("Shape", 1, Outputs::One, layout::shape),
    (
        "ConstantOfShape",
        9,
        Outputs::One,
        layout::constant_of_shape,
    ),
    ("Range", 11, Outputs::One, layout::range),
    ("Identity", 1, Outputs::One, layout::identity),
    ("Dropout", 1, Outputs::FirstOf(2), layout::dropout),
];

/// Converts one node of the default domain (`Constant` is handled by the caller).
pub(crate) fn convert_node(
    state: &mut ModelState,
    proto: &NodeProto,
    name: String,
) -> Result<Node> {
    let opset = state.opset;
    let mut context = NodeContext::new(proto, name, state)?;
    let Some(&(_, since, outputs, converter)) = CONVERTERS
        .iter()
        .find(|(op_type, ..)| *op_type == proto.op_type)
    else {
        return Err(Error::Unsupported {
            location: context.location().to_string(),
            detail: format!(
                "op {} (opset {opset}) is not in kiln's op set",
                proto.op_type
            ),
        });
    };
    if opset < since {
        return Err(context.invalid(format!(
            "op {} is defined from opset {since}, but the model imports opset {opset}",
            proto.op_type
        )));
    }
    match outputs {
        Outputs::One => context.expect_outputs(1, 1)?,
        Outputs::FirstOf(max) => context.expect_outputs(1, max)?,
        Outputs::All => {
            let count = context.output_count();
            context.expect_outputs(count.max(1), count)?;
        }
    }
    let op = converter(&mut context)?;
    Ok(context.into_node(op))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_and_the_public_list_name_the_same_ops() {
        let mut converted: Vec<&str> = CONVERTERS.iter().map(|(op_type, ..)| *op_type).collect();
        converted.push("Constant");
        converted.sort_unstable();
        let mut listed = SUPPORTED_OPS.to_vec();
        listed.sort_unstable();
        assert_eq!(converted, listed);
    }
}
