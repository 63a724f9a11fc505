//! ONNX nodes to kiln [`Op`]s, one converter per op family, each filling ONNX's defaults and
//! normalising every opset to the single form [`Op`] documents (old-opset attributes become
//! synthesised initializer inputs). Which op types exist, from which opset and with which outputs
//! is the op registry's ([`crate::graph::registry`]); [`converter`] names each family's converters
//! by an exhaustive match over [`Family`]. Anything else is an [`Error::Unsupported`] naming the
//! node and the opset.

mod context;
mod conv;
mod elementwise;
mod integer;
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

/// The converter of `op_type`, which the registry places in `family`: each family's import file
/// maps its op types to converters, so adding an op to a family touches that file only; `None`
/// when the family lists an op type its file does not convert (a test keeps that from happening).
fn converter(family: Family, op_type: &str) -> Option<Converter> {
    match family {
        Family::Elementwise => elementwise::elementwise_family(op_type),
        Family::Convert => elementwise::convert_family(op_type),
        Family::Matmul => linear::matmul_family(op_type),
        Family::Conv => conv::conv_family(op_type),
        Family::Quantize => linear::quantize_family(op_type),
        Family::QuantizedElementwise => None,
        Family::Pool => conv::pool_family(op_type),
        Family::Normalization => reduce::normalization_family(op_type),
        Family::Reduce => reduce::reduce_family(op_type),
        Family::Resize => resize::resize_family(op_type),
        Family::Layout => layout::layout_family(op_type),
        Family::Indexing => layout::indexing_family(op_type),
        // onnxruntime's com.microsoft ops: made by the QDQ lowering, never imported.
        Family::QuantizedPool => None,
    }
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
