//! ONNX nodes to kiln [`Op`]s, one converter per op family, each filling ONNX's defaults and
//! normalising every opset to the single form [`Op`] documents (old-opset attributes become
//! synthesised initializer inputs). Which op types exist, from which opset and with which outputs
//! is the op registry's ([`crate::graph::registry`]); [`converter`] names each family's converters
//! by an exhaustive match over [`Family`]. Anything else is an [`Error::Unsupported`] naming the
//! node and the opset.

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
use crate::graph::registry::{self, Family, OnnxOutputs};
use crate::graph::{Node, Op};
use crate::import::onnx::proto::NodeProto;
use std::sync::LazyLock;

/// The ONNX op types (domain `ai.onnx`) the importer converts, sorted: every op type of the
/// registry, and `Constant` (which becomes an initializer).
pub static SUPPORTED_OPS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut op_types: Vec<&'static str> = registry::onnx_op_types().collect();
    op_types.push("Constant");
    op_types.sort_unstable();
    op_types
});

type Converter = fn(&mut NodeContext) -> Result<Op>;

/// The converter of `op_type`, which the registry places in `family`; `None` when the family
/// lists an op type this layer does not convert (a registry test keeps that from happening).
fn converter(family: Family, op_type: &str) -> Option<Converter> {
    Some(match (family, op_type) {
        (Family::Elementwise, "Add" | "Sub" | "Mul" | "Div" | "Pow") => elementwise::binary,
        (Family::Elementwise, "Min" | "Max" | "Sum") => elementwise::variadic,
        (Family::Elementwise, "Clip") => elementwise::clip,
        (Family::Elementwise, "Abs" | "Exp" | "Log" | "Neg" | "Sqrt") => elementwise::unary,
        (Family::Elementwise, "Relu" | "LeakyRelu" | "Sigmoid" | "Tanh" | "HardSigmoid") => {
            elementwise::unary
        }
        (Family::Elementwise, "HardSwish" | "Gelu" | "Softplus") => elementwise::unary,
        (Family::Convert, "Equal" | "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual") => {
            elementwise::compare
        }
        (Family::Convert, "Not") => elementwise::not,
        (Family::Convert, "Where") => elementwise::select,
        (Family::Convert, "Cast") => elementwise::cast,
        (Family::Matmul, "MatMul") => linear::matmul,
        (Family::Matmul, "Gemm") => linear::gemm,
        (Family::Matmul, "MatMulInteger") => linear::matmul_integer,
        (Family::Conv, "Conv") => conv::conv,
        (Family::Conv, "ConvTranspose") => conv::conv_transpose,
        (Family::Quantize, "QLinearConv") => conv::qlinear_conv,
        (Family::Quantize, "QuantizeLinear") => linear::quantize,
        (Family::Quantize, "DequantizeLinear") => linear::dequantize,
        (Family::Pool, "MaxPool" | "AveragePool") => conv::pool,
        (Family::Pool, "GlobalAveragePool" | "GlobalMaxPool") => conv::global_pool,
        (Family::Normalization, "BatchNormalization") => reduce::batch_norm,
        (Family::Normalization, "LayerNormalization") => reduce::layer_norm,
        (Family::Normalization, "LRN") => reduce::lrn,
        (Family::Normalization, "Softmax" | "LogSoftmax") => reduce::softmax,
        (Family::Reduce, "ReduceSum" | "ReduceMean" | "ReduceMax") => reduce::reduce,
        (Family::Reduce, "ArgMax") => reduce::arg_max,
        (Family::Resize, "Resize") => resize::resize,
        (Family::Resize, "Upsample") => resize::upsample,
        (Family::Layout, op_type) => layout_converter(op_type)?,
        (Family::Indexing, op_type) => indexing_converter(op_type)?,
        (
            Family::Elementwise
            | Family::Convert
            | Family::Matmul
            | Family::Conv
            | Family::Quantize
            | Family::Pool
            | Family::Normalization
            | Family::Reduce
            | Family::Resize,
            _,
        ) => return None,
    })
}

/// The layout family's converters.
fn layout_converter(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "Concat" => layout::concat,
        "Split" => layout::split,
        "Slice" => layout::slice,
        "Transpose" => layout::transpose,
        "Pad" => layout::pad,
        "Reshape" => layout::reshape,
        "Flatten" => layout::flatten,
        "Squeeze" => layout::squeeze,
        "Unsqueeze" => layout::unsqueeze,
        "Expand" => layout::expand,
        _ => return None,
    })
}

/// The indexing family's converters.
fn indexing_converter(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "Gather" => layout::gather,
        "Shape" => layout::shape,
        "ConstantOfShape" => layout::constant_of_shape,
        "Range" => layout::range,
        "Identity" => layout::identity,
        "Dropout" => layout::dropout,
        _ => return None,
    })
}

/// Converts one node of the default domain (`Constant` is handled by the caller).
pub(crate) fn convert_node(
    state: &mut ModelState,
    proto: &NodeProto,
    name: String,
) -> Result<Node> {
    let opset = state.opset;
    let mut context = NodeContext::new(proto, name, state)?;
    let registered = registry::onnx_op(&proto.op_type)
        .and_then(|(family, entry)| Some((entry, converter(family, &proto.op_type)?)));
    let Some((entry, converter)) = registered else {
        return Err(Error::Unsupported {
            location: context.location().to_string(),
            detail: format!(
                "op {} (opset {opset}) is not in kiln's op set",
                proto.op_type
            ),
        });
    };
    let since = entry.since_opset;
    if opset < since {
        return Err(context.invalid(format!(
            "op {} is defined from opset {since}, but the model imports opset {opset}",
            proto.op_type
        )));
    }
    match entry.outputs {
        OnnxOutputs::One => context.expect_outputs(1, 1)?,
        OnnxOutputs::FirstOf(max) => context.expect_outputs(1, max)?,
        OnnxOutputs::All => {
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
    fn every_registered_op_type_has_a_converter() {
        for family in Family::ALL {
            for entry in family.spec().onnx {
                let found = converter(family, entry.op_type).is_some();
                assert!(found, "{} ({family:?}) has no converter", entry.op_type);
            }
        }
        assert!(converter(Family::Layout, "Gather").is_none());
    }

    #[test]
    fn the_public_list_is_the_registry_and_constant() {
        assert!(SUPPORTED_OPS.contains(&"Constant"));
        assert!(SUPPORTED_OPS.contains(&"LRN") && SUPPORTED_OPS.contains(&"Upsample"));
        assert_eq!(SUPPORTED_OPS.len(), registry::onnx_op_types().count() + 1);
        assert!(SUPPORTED_OPS.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
