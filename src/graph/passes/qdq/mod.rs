//! Lowering of QDQ patterns to integer ops: a float op between DequantizeLinear inputs and a
//! QuantizeLinear output, as onnxruntime's `quantize_static` writes it, becomes the integer op that
//! computes the same thing on the quantized values, so activations stay int8 or uint8 from one
//! quantized layer to the next (the Q of one layer and the DQ of the next are both dropped).
//!
//! [`lower_qdq`] runs before constant folding (which would turn a weight's DequantizeLinear into a
//! float initializer) and logs at `info` which nodes it lowered and, for each Conv it left in
//! float, why. Patterns lowered today: `DQ(x), DQ(w), [DQ(b)] → Conv → [Relu] → Q` ⇒
//! `QLinearConv` ([`conv`]); `DQ(x) → op → Q` with the same quantization, for every op that only
//! moves or selects values (MaxPool, Reshape, Transpose, Slice, nearest Resize, Pad, ...) ⇒ the op
//! on the integers ([`passthrough`]); `DQ → AveragePool / GlobalAveragePool → Q` ⇒
//! `QLinearAveragePool / QLinearGlobalAveragePool` ([`average`]); `DQ(a), DQ(b) → Add/Mul → Q` ⇒
//! `QLinearBinary` ([`binary`]), `DQ(x_i)… → Concat → Q` ⇒ `QLinearConcat` ([`concat`]), any
//! element-wise chain from one DQ to one Q ⇒ `LookupTable` ([`table`]), and
//! `DQ(x), DQ(w), [DQ(b)] → MatMul | Gemm → [Relu] → Q` ⇒ `QLinearMatMul` ([`matmul`]).

mod average;
#[cfg(test)]
mod average_tests;
mod binary;
mod border;
mod concat;
mod conv;
mod elementwise;
#[cfg(test)]
mod elementwise_tests;
mod matmul;
#[cfg(test)]
mod matmul_tests;
mod passthrough;
#[cfg(test)]
mod passthrough_tests;
mod placement;
mod table;
#[cfg(test)]
pub(crate) mod tests;

pub use border::border_conversions;
pub use placement::{arithmetic_table, node_arithmetic, Arithmetic, NodeArithmetic};

use crate::error::Result;
use crate::graph::{Graph, Node, Op};
use crate::tensor::{DType, HostTensor};

/// Which nodes [`lower_qdq`] lowered, and the reasons it left the others in float.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QdqLowering {
    /// Names of the nodes now computed in integers (Conv as QLinearConv, value moves on
    /// int8/uint8, Add/Mul as QLinearBinary, Concat as QLinearConcat, an element-wise chain as a
    /// LookupTable named after its last node, ...).
    pub lowered: Vec<String>,
    /// `(node, reason)` for each node the lowering considered and left in float.
    pub kept_float: Vec<(String, String)>,
}

/// Lowers every `DQ → Conv → [Relu] → Q` and `DQ → MaxPool → Q` pattern of `graph` that integer
/// arithmetic computes exactly as the float path (up to the requantization's rounding, for
/// Conv); returns how many it lowered. The DequantizeLinear nodes it bypasses are left for
/// dead-node elimination.
pub fn lower_qdq(graph: &mut Graph) -> Result<usize> {
    let report = lower_qdq_report(graph)?;
    Ok(report.lowered.len())
}

/// [`lower_qdq`], returning which nodes were lowered and why the others were not.
pub fn lower_qdq_report(graph: &mut Graph) -> Result<QdqLowering> {
    let mut report = QdqLowering::default();
    let borders = elementwise::QdqBorders::of(graph);
    let mut index = 0;
    while index < graph.nodes.len() {
        let name = graph.nodes[index].name.clone();
        let op = graph.nodes[index].op.name();
        let outcome = match graph.nodes[index].op {
            Op::Conv(_) => conv::plan(graph, index)?.map(|lowering| {
                conv::apply(graph, index, lowering);
                "an integer QLinearConv"
            }),
            Op::MatMul { .. } | Op::Gemm { .. } => matmul::plan(graph, index)?.map(|lowering| {
                matmul::apply(graph, index, lowering);
                "an integer QLinearMatMul"
            }),
            Op::AveragePool(_) | Op::GlobalAveragePool => {
                average::plan(graph, index).map(|lowering| {
                    average::apply(graph, index, lowering);
                    "an integer QLinearAveragePool"
                })
            }
            ref op if passthrough::moves_values(op) => {
                passthrough::plan(graph, index).map(|lowering| {
                    passthrough::apply(graph, index, lowering);
                    "a move of its quantized values"
                })
            }
            Op::Unary(_) | Op::Binary(_) | Op::Clip
                if borders.reports_elementwise(graph, index) =>
            {
                elementwise::lower(graph, &mut index)
            }
            Op::Concat { .. } if borders.reports_concat(graph, index) => concat::plan(graph, index)
                .map(|lowering| {
                    concat::apply(graph, index, lowering);
                    "a QLinearConcat"
                }),
            _ => {
                index += 1;
                continue;
            }
        };
        match outcome {
            Ok(how) => {
                log::info!("QDQ lowering: {op} '{name}' runs as {how}");
                report.lowered.push(name);
            }
            Err(reason) => {
                log::info!("QDQ lowering: {op} '{name}' stays float: {reason}");
                report.kept_float.push((name, reason));
            }
        }
        index += 1;
    }
    Ok(report)
}

/// A DequantizeLinear or QuantizeLinear's constant parameters: scales (one, or one per channel
/// along `axis`) and zero points of the quantized dtype.
#[derive(Clone, Debug)]
struct Quantization {
    scales: Vec<f32>,
    zero_points: Vec<i32>,
    dtype: DType,
    axis: i64,
}

/// The node producing `value` when it is a DequantizeLinear, with the name of its quantized input.
fn dequantize_producer<'g>(graph: &'g Graph, value: &str) -> Option<(&'g Node, String)> {
    let (_, node) = graph.producer(value)?;
    matches!(node.op, Op::DequantizeLinear { .. })
        .then(|| node.input(0).map(|input| (node, input.to_string())))
        .flatten()
}

/// The constant scale and zero point of a QuantizeLinear or DequantizeLinear `node`, whose
/// quantized value has `quantized` (its dtype when the zero point is absent: the initializer's,
/// or uint8 as ONNX's default), or why they are not usable.
fn quantization_of(
    graph: &Graph,
    node: &Node,
    quantized: Option<&HostTensor>,
) -> std::result::Result<Quantization, String> {
    let axis = match node.op {
        Op::QuantizeLinear { axis, .. } | Op::DequantizeLinear { axis } => axis,
        _ => {
            return Err(format!(
                "'{}' is not a QuantizeLinear/DequantizeLinear",
                node.name
            ))
        }
    };
    let scale = super::initializer(graph, node.input(1))
        .and_then(HostTensor::as_f32)
        .ok_or_else(|| format!("'{}' has no constant f32 scale", node.name))?;
    let zero_point = super::initializer(graph, node.input(2));
    if node.input(2).is_some() && zero_point.is_none() {
        return Err(format!(
            "'{}' has a zero point computed at run time",
            node.name
        ));
    }
    let dtype = zero_point
        .or(quantized)
        .map_or(DType::U8, HostTensor::dtype);
    let zero_points = match zero_point {
        Some(zero_point) => zero_point
            .to_i64_vec("lower_qdq")
            .map_err(|error| error.to_string())?
            .into_iter()
            .map(|value| value as i32)
            .collect(),
        None => vec![0; scale.len()],
    };
    Ok(Quantization {
        scales: scale.to_vec(),
        zero_points,
        dtype,
        axis,
    })
}

/// The index of the node reading `value` when exactly one node input, and no graph output,
/// reads it.
fn sole_consumer(graph: &Graph, value: &str) -> Option<usize> {
    if graph.use_count(value) != 1 {
        return None;
    }
    graph
        .nodes
        .iter()
        .position(|node| node.inputs.iter().flatten().any(|input| input == value))
}
