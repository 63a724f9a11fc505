//! What `kiln inspect` prints: every node's weight inputs with their layout, logical shape and
//! stored bytes, then the totals. It reads a [`Graph`], so an ONNX, Darknet or `.kiln` model
//! prints alike; a packed weight's bytes are those of the tensors a `.kiln` file stores for it
//! (values, scales, zero points, indices), a dense one's its elements'.

use crate::format::parts::packed_parts;
use crate::graph::{Graph, PackedMatrix, PackedWeight};
use crate::tensor::bsr::BsrValues;
use std::collections::BTreeSet;
use std::fmt::Write;

/// One weight input of one node.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightRow {
    /// The node's name.
    pub node: String,
    /// The node's op (`Conv`, `MatMul`, ...).
    pub op: &'static str,
    /// The weight's value name.
    pub weight: String,
    /// Its precision and layout: `f32`, `f16`, `q8 per-channel`, `q4 g32`, `bsr 16x16 75% zero
    /// f32`, `2:4 f16`.
    pub layout: String,
    /// Its logical shape.
    pub shape: Vec<usize>,
    /// Its stored bytes.
    pub bytes: usize,
}

/// The totals over every weight of a graph, each counted once however many nodes read it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WeightTotals {
    /// Weights (dense and packed).
    pub weights: usize,
    /// Elements of their logical tensors.
    pub parameters: usize,
    /// Bytes stored.
    pub bytes: usize,
    /// Bytes the same elements take as f32.
    pub f32_bytes: usize,
}

/// The layout name and stored bytes of a packed weight.
pub fn packed_layout(name: &str, weight: &PackedWeight) -> (String, usize) {
    let layout = match &weight.matrix {
        PackedMatrix::Q8 {
            unsigned: false, ..
        } => "q8 per-channel".to_string(),
        PackedMatrix::Q8 { unsigned: true, .. } => "q8 per-channel (u8 source)".to_string(),
        PackedMatrix::Q4(weights) => format!("q4 g{}", weights.group_size.elements()),
        PackedMatrix::Bsr(matrix) => {
            let values = match matrix.values {
                BsrValues::F32(_) => "f32",
                BsrValues::F16(_) => "f16",
                BsrValues::I8 { .. } => "i8",
            };
            let zero_percent = matrix.sparsity() * 100.0;
            format!("bsr {} {zero_percent:.0}% zero {values}", matrix.block)
        }
        PackedMatrix::NmSparse(matrix) => format!("{} {}", matrix.pattern, matrix.values.dtype()),
    };
    let (_, parts) = packed_parts(name, weight);
    (layout, parts.iter().map(|(_, part)| part.bytes.len()).sum())
}

/// The layout, shape and bytes of weight `name`, if the graph holds one by that name.
fn describe(graph: &Graph, name: &str) -> Option<(String, Vec<usize>, usize)> {
    if let Some(tensor) = graph.initializers.get(name) {
        let layout = tensor.dtype().name().to_string();
        return Some((layout, tensor.shape().to_vec(), tensor.size_bytes()));
    }
    let weight = graph.packed_weights.get(name)?;
    let (layout, bytes) = packed_layout(name, weight);
    Some((layout, weight.shape.clone(), bytes))
}

/// One row per (node, weight input), in node order.
pub fn weight_rows(graph: &Graph) -> Vec<WeightRow> {
    let mut rows = Vec::new();
    for node in &graph.nodes {
        for name in node.inputs.iter().flatten() {
            if let Some((layout, shape, bytes)) = describe(graph, name) {
                rows.push(WeightRow {
                    node: node.name.clone(),
                    op: node.op.name(),
                    weight: name.clone(),
                    layout,
                    shape,
                    bytes,
                });
            }
        }
    }
    rows
}

/// The totals over every dense and packed weight of `graph`.
pub fn weight_totals(graph: &Graph) -> WeightTotals {
    let names: BTreeSet<&String> = graph
        .initializers
        .keys()
        .chain(graph.packed_weights.keys())
        .collect();
    let mut totals = WeightTotals::default();
    for name in names {
        if let Some((_, shape, bytes)) = describe(graph, name) {
            let parameters: usize = shape.iter().product();
            totals.weights += 1;
            totals.parameters += parameters;
            totals.bytes += bytes;
            totals.f32_bytes += parameters * 4;
        }
    }
    totals
}

/// The table `kiln inspect` prints: a header line, one line per row, then the totals.
pub fn format_table(graph: &Graph) -> String {
    let rows = weight_rows(graph);
    let shapes: Vec<String> = rows.iter().map(|row| format!("{:?}", row.shape)).collect();
    let width = |values: &mut dyn Iterator<Item = usize>, title: &str| {
        values.max().unwrap_or(0).max(title.len())
    };
    let node_w = width(&mut rows.iter().map(|row| row.node.len()), "node");
    let op_w = width(&mut rows.iter().map(|row| row.op.len()), "op");
    let weight_w = width(&mut rows.iter().map(|row| row.weight.len()), "weight");
    let layout_w = width(&mut rows.iter().map(|row| row.layout.len()), "layout");
    let shape_w = width(&mut shapes.iter().map(String::len), "shape");
    let mut text = format!(
        "{:node_w$}  {:op_w$}  {:weight_w$}  {:layout_w$}  {:shape_w$}  {:>12}\n",
        "node", "op", "weight", "layout", "shape", "bytes"
    );
    for (row, shape) in rows.iter().zip(&shapes) {
        let (node, op, weight, layout) = (&row.node, row.op, &row.weight, &row.layout);
        let bytes = row.bytes;
        let _ = writeln!(
            text,
            "{node:node_w$}  {op:op_w$}  {weight:weight_w$}  {layout:layout_w$}  {shape:shape_w$}  {bytes:>12}"
        );
    }
    let totals = weight_totals(graph);
    let ratio = totals.bytes as f64 / totals.f32_bytes.max(1) as f64;
    let _ = writeln!(
        text,
        "\ntotal: {} weights, {} parameters, {} bytes ({:.2} MiB); {} bytes as f32 ({ratio:.3}x of f32)",
        totals.weights,
        totals.parameters,
        totals.bytes,
        totals.bytes as f64 / (1 << 20) as f64,
        totals.f32_bytes,
    );
    text
}
