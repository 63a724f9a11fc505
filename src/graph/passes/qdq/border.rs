//! The rule at the border between integers and float: what cannot be lowered stays float with
//! exactly one conversion at the border, so a quantized value reaching float nodes is
//! dequantized once. [`border_conversions`] lists what breaks it in an (optimised) graph.

use super::quantization_of;
use crate::graph::{Graph, Op};
use std::collections::HashMap;

/// The conversions of `graph` that break the border rule, each said in a sentence:
/// - a DequantizeLinear whose output feeds a QuantizeLinear of the same scales, zero points and
///   type: `Q(DQ(q)) = q`, a float round trip between two integer values (ping-pong);
/// - a DequantizeLinear of a value, scale and zero point another one already dequantizes (the
///   same float value made twice).
pub fn border_conversions(graph: &Graph) -> Vec<String> {
    let mut broken = Vec::new();
    let mut dequantized: HashMap<(Vec<Option<String>>, i64), &str> = HashMap::new();
    for node in &graph.nodes {
        let Op::DequantizeLinear { axis } = node.op else {
            continue;
        };
        if let Some(first) = dequantized.insert((node.inputs.clone(), axis), &node.name) {
            broken.push(format!(
                "DequantizeLinear '{}' repeats '{first}' on '{}'",
                node.name,
                node.input(0).unwrap_or_default()
            ));
        }
        let Ok(before) = quantization_of(graph, node, None) else {
            continue;
        };
        let readers = (graph.nodes.iter()).filter(|reader| {
            matches!(reader.op, Op::QuantizeLinear { .. })
                && reader.input(0) == node.outputs.first().map(String::as_str)
        });
        for q in readers {
            let Ok(after) = quantization_of(graph, q, None) else {
                continue;
            };
            let same = (&before.scales, &before.zero_points, before.dtype)
                == (&after.scales, &after.zero_points, after.dtype);
            if same {
                broken.push(format!(
                    "DequantizeLinear '{}' feeds QuantizeLinear '{}' of the same quantization",
                    node.name, q.name
                ));
            }
        }
    }
    broken
}
