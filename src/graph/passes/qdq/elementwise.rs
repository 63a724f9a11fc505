//! Which element-wise nodes the QDQ lowering looks at, and in what order it tries their two
//! integer forms: a LookupTable for a chain from one DequantizeLinear ([`super::table`]), then,
//! for Add and Mul between two DequantizeLinears, QLinearBinary ([`super::binary`]).

use super::{binary, dequantize_producer, sole_consumer, table};
use crate::graph::{Graph, Op};
use crate::ops::elementwise::BinaryOp;
use crate::ops::quantized_elementwise::QLinearBinaryOp;
use std::collections::HashSet;

/// The values a QuantizeLinear reads and the values a DequantizeLinear writes, gathered once per
/// lowering so that looking at a node costs a lookup, not a scan of the graph, unless it sits at
/// a QDQ border (the lowering adds no Q or DQ, so the sets only ever over-approximate).
pub(super) struct QdqBorders {
    quantized: HashSet<String>,
    dequantized: HashSet<String>,
}

impl QdqBorders {
    /// The borders of `graph`.
    pub(super) fn of(graph: &Graph) -> Self {
        let mut borders = QdqBorders {
            quantized: HashSet::new(),
            dequantized: HashSet::new(),
        };
        for node in &graph.nodes {
            match node.op {
                Op::QuantizeLinear { .. } => {
                    borders.quantized.extend(node.input(0).map(str::to_string));
                }
                Op::DequantizeLinear { .. } => {
                    borders.dequantized.extend(node.outputs.iter().cloned());
                }
                _ => {}
            }
        }
        borders
    }

    /// Whether the element-wise node at `index` is reported by the lowering (lowered, or kept
    /// float with a reason): it is the last node before a QuantizeLinear, or an Add or Mul
    /// reading DequantizeLinear outputs only. The other nodes of a chain are lowered with its
    /// last node.
    pub(super) fn reports_elementwise(&self, graph: &Graph, index: usize) -> bool {
        let node = &graph.nodes[index];
        let feeds_quantize = matches!(node.outputs.as_slice(), [output] if self.quantized.contains(output))
            && sole_consumer(graph, &node.outputs[0]).is_some_and(|consumer| {
                matches!(graph.nodes[consumer].op, Op::QuantizeLinear { .. })
            });
        let between_dequantized = qlinear_op(&node.op).is_some()
            && node.inputs.iter().all(|input| {
                input
                    .as_deref()
                    .is_some_and(|value| self.dequantized.contains(value))
            })
            && node
                .inputs
                .iter()
                .flatten()
                .all(|value| dequantize_producer(graph, value).is_some());
        feeds_quantize || between_dequantized
    }

    /// Whether the Concat at `index` is reported: it reads a DequantizeLinear output.
    pub(super) fn reports_concat(&self, graph: &Graph, index: usize) -> bool {
        let inputs = graph.nodes[index].inputs.iter().flatten();
        inputs
            .filter(|value| self.dequantized.contains(*value))
            .any(|value| dequantize_producer(graph, value).is_some())
    }
}

/// Lowers the element-wise node at `index` and moves `index` to the node that replaced it (a
/// LookupTable takes the place of a whole chain); returns what it runs as, or why it stays float.
pub(super) fn lower(
    graph: &mut Graph,
    index: &mut usize,
) -> std::result::Result<&'static str, String> {
    let table_refusal = match table::plan(graph, *index) {
        Ok(lowering) => {
            *index = table::apply(graph, lowering);
            return Ok("a LookupTable");
        }
        Err(reason) => reason,
    };
    let Some(op) = qlinear_op(&graph.nodes[*index].op) else {
        return Err(table_refusal);
    };
    match binary::plan(graph, *index, op) {
        Ok(lowering) => {
            binary::apply(graph, *index, lowering);
            Ok(match op {
                QLinearBinaryOp::Add => "a QLinearAdd",
                QLinearBinaryOp::Mul => "a QLinearMul",
            })
        }
        Err(reason) => Err(format!("{reason} (as a lookup table: {table_refusal})")),
    }
}

/// The integer form of a binary op, for Add and Mul.
fn qlinear_op(op: &Op) -> Option<QLinearBinaryOp> {
    match op {
        Op::Binary(BinaryOp::Add) => Some(QLinearBinaryOp::Add),
        Op::Binary(BinaryOp::Mul) => Some(QLinearBinaryOp::Mul),
        _ => None,
    }
}
