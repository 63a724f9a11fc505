//! Which arithmetic each node of an optimised graph runs in: integers (what [`super::lower_qdq`]
//! lowered, and integer ops the model already had), a float/integer conversion (a
//! QuantizeLinear or DequantizeLinear left in place), or float with the reason it is not integer
//! (the lowering's own reason for a node it refused). `kiln inspect` prints it. Driven by the
//! lowering's report ([`QdqLowering`]) and the values' types, not by a list of ops, so a new
//! lowering shows up here by reporting what it lowered.
//!
//! [`super::border_conversions`] checks the rule at the border between integers and float: a quantized
//! value reaching a float node is dequantized once — no DequantizeLinear feeding a
//! QuantizeLinear of the same quantization (a round trip that changes nothing), and no two
//! DequantizeLinear nodes of the same value.

use super::QdqLowering;
use crate::graph::{Graph, Node, Op};
use crate::tensor::DType;
use std::collections::HashSet;
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
/// report, in node order. The report decides: a node it lowered runs in integers, a node it
/// refused runs in float for the reason it gave. Of the others, a QuantizeLinear or
/// DequantizeLinear converts, a node whose data input (its first) is an integer value (a Q's
/// output, an integer graph input or initializer, or the output of an integer node) runs in
/// integers as the model wrote it (an imported QLinearConv, say), and the rest run in float.
pub fn node_arithmetic(graph: &Graph, lowering: &QdqLowering) -> Vec<NodeArithmetic> {
    let mut integer_values: HashSet<&str> = (graph.inputs.iter())
        .filter(|input| input.dtype.is_some_and(is_integer))
        .map(|input| input.name.as_str())
        .chain(
            (graph.initializers.iter())
                .filter(|(_, tensor)| is_integer(tensor.dtype()))
                .map(|(name, _)| name.as_str()),
        )
        .collect();
    let mut nodes = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let arithmetic = arithmetic_of(node, lowering, &integer_values);
        if matches!(
            (&arithmetic, &node.op),
            (Arithmetic::Integer, _) | (_, Op::QuantizeLinear { .. })
        ) {
            integer_values.extend(node.outputs.iter().map(String::as_str));
        }
        nodes.push(NodeArithmetic {
            node: node.name.clone(),
            op: node.op.name(),
            arithmetic,
        });
    }
    nodes
}

/// The arithmetic of `node`, given the lowering's report and the values known to be integers.
fn arithmetic_of(
    node: &Node,
    lowering: &QdqLowering,
    integer_values: &HashSet<&str>,
) -> Arithmetic {
    if lowering.lowered.contains(&node.name) {
        return Arithmetic::Integer;
    }
    if let Some((_, reason)) = lowering
        .kept_float
        .iter()
        .find(|(name, _)| *name == node.name)
    {
        return Arithmetic::Float(reason.clone());
    }
    match node.op {
        Op::QuantizeLinear { .. } | Op::DequantizeLinear { .. } | Op::DynamicQuantizeLinear => {
            Arithmetic::Conversion
        }
        _ if node
            .input(0)
            .is_some_and(|input| integer_values.contains(input)) =>
        {
            Arithmetic::Integer
        }
        _ => Arithmetic::Float(format!(
            "the QDQ lowering has no integer form of {}",
            node.op.name()
        )),
    }
}

fn is_integer(dtype: DType) -> bool {
    matches!(dtype, DType::I8 | DType::U8 | DType::I32)
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
