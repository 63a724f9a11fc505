//! Which arithmetic each node of an optimised graph runs in: integers (what [`super::lower_qdq`]
//! lowered, and integer ops the model already had), a float/integer conversion (a
//! QuantizeLinear or DequantizeLinear left in place), or float with the reason it is not integer
//! (the lowering's own reason for a Conv or MaxPool it refused). `kiln inspect` prints it.

use super::QdqLowering;
use crate::graph::{Graph, Op};
use std::fmt;

/// The arithmetic a node runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arithmetic {
    /// On int8/uint8 values (int32 accumulation where it multiplies).
    Integer,
    /// A QuantizeLinear or DequantizeLinear: float to integer or back.
    Conversion,
    /// In f32, for the reason given.
    Float(String),
}

impl fmt::Display for Arithmetic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arithmetic::Integer => write!(f, "integer"),
            Arithmetic::Conversion => write!(f, "conversion"),
            Arithmetic::Float(reason) => write!(f, "float: {reason}"),
        }
    }
}

/// One node of the optimised graph and the arithmetic it runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeArithmetic {
    /// The node's name.
    pub node: String,
    /// Its op's ONNX name.
    pub op: &'static str,
    /// Integer, conversion or float (with the reason).
    pub arithmetic: Arithmetic,
}

/// The arithmetic of every node of `graph`, optimised with `lowering` as the QDQ lowering's
/// report, in node order.
pub fn node_arithmetic(graph: &Graph, lowering: &QdqLowering) -> Vec<NodeArithmetic> {
    graph
        .nodes
        .iter()
        .map(|node| {
            let refused = lowering
                .kept_float
                .iter()
                .find(|(name, _)| *name == node.name);
            let arithmetic = if lowering.lowered.contains(&node.name) {
                Arithmetic::Integer
            } else if let Some((_, reason)) = refused {
                Arithmetic::Float(reason.clone())
            } else {
                match node.op {
                    Op::QLinearConv(_)
                    | Op::MatMulInteger
                    | Op::QLinearBinary { .. }
                    | Op::QLinearConcat { .. }
                    | Op::LookupTable { .. } => Arithmetic::Integer,
                    Op::QuantizeLinear { .. } | Op::DequantizeLinear { .. } => {
                        Arithmetic::Conversion
                    }
                    _ => Arithmetic::Float(format!(
                        "the QDQ lowering has no integer form of {}",
                        node.op.name()
                    )),
                }
            };
            NodeArithmetic {
                node: node.name.clone(),
                op: node.op.name(),
                arithmetic,
            }
        })
        .collect()
}

/// A Markdown table of `nodes`: name, op, and integer / conversion / float with its reason, then
/// a line counting each.
pub fn arithmetic_table(nodes: &[NodeArithmetic]) -> String {
    let mut text = String::from("| node | op | runs in |\n|---|---|---|\n");
    for node in nodes {
        text += &format!("| {} | {} | {} |\n", node.node, node.op, node.arithmetic);
    }
    let count = |wanted: fn(&Arithmetic) -> bool| {
        nodes.iter().filter(|node| wanted(&node.arithmetic)).count()
    };
    text += &format!(
        "\n{} nodes in integers, {} conversions, {} in float\n",
        count(|a| *a == Arithmetic::Integer),
        count(|a| *a == Arithmetic::Conversion),
        count(|a| matches!(a, Arithmetic::Float(_))),
    );
    text
}
