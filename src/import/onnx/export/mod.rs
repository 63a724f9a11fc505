//! A [`Graph`] to ONNX bytes: opset 17 (IR version 8) unless an op needs a later one (see
//! `opset.rs`: GELU needs 20, wrap padding 19, Split into `num_outputs` parts 18, ...),
//! initializers as little-endian `raw_data`, declared shapes with symbolic dims as `dim_param`,
//! and the metadata as `metadata_props`. Packed weights are written as standard QDQ (see
//! `qdq.rs`): int8/uint8 or, from opset 21, int4/uint4 initializers and `DequantizeLinear`
//! nodes; layouts ONNX lacks (block-sparse, N:M) are written dense.

mod integer;
#[cfg(test)]
mod integer_tests;
mod nodes;
mod opset;
mod qdq;
#[cfg(test)]
mod qdq_tests;
mod qlinear_matmul;
mod qlinear_pool;
mod quantized_elementwise;
#[cfg(test)]
mod quantized_elementwise_tests;
#[cfg(test)]
mod round_trip_tests;
#[cfg(test)]
pub(crate) mod sample_graph;
pub(crate) mod writer;

use super::proto::{
    DimensionProto, DimensionValue, GraphProto, ModelProto, OperatorSetIdProto,
    StringStringEntryProto, TensorShapeProto, TensorTypeProto, TypeProto, TypeValue,
    ValueInfoProto,
};
use super::reader::MAX_OPSET;
use super::tensor::{dtype_code, tensor_to_proto};
use crate::error::{Error, Result};
use crate::graph::{Dim, Graph, PackedMatrix, ValueInfo};
use prost::Message;
use std::path::Path;
use writer::NodeWriter;

/// How [`to_onnx_bytes_with`] writes a graph.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// The opset to write. `None`: the latest any node needs, and 21 when a `Q4` weight is packed
    /// (so that it is written as int4). A pinned opset below what a node needs is an
    /// [`Error::Unsupported`], and so is one above the newest kiln knows (28); below 21, `Q4`
    /// weights are written dense, with a warning.
    pub opset: Option<i64>,
}

/// `graph` as the bytes of an ONNX model file, with the default [`ExportOptions`].
pub fn to_onnx_bytes(graph: &Graph) -> Result<Vec<u8>> {
    to_onnx_bytes_with(graph, &ExportOptions::default())
}

/// `graph` as the bytes of an ONNX model file, written as `options` say.
pub fn to_onnx_bytes_with(graph: &Graph, options: &ExportOptions) -> Result<Vec<u8>> {
    Ok(model_proto(graph, options)?.encode_to_vec())
}

/// Writes `graph` to `path` as an ONNX model, with the default [`ExportOptions`].
pub fn save_onnx(graph: &Graph, path: &Path) -> Result<()> {
    save_onnx_with(graph, path, &ExportOptions::default())
}

/// Writes `graph` to `path` as an ONNX model, written as `options` say.
pub fn save_onnx_with(graph: &Graph, path: &Path, options: &ExportOptions) -> Result<()> {
    let bytes = to_onnx_bytes_with(graph, options)?;
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// The opset `options` ask for, checked against what `graph`'s nodes need.
fn export_opset(graph: &Graph, options: &ExportOptions) -> Result<i64> {
    let required = opset::required_opset(graph);
    let has_q4 =
        (graph.packed_weights.values()).any(|weight| matches!(weight.matrix, PackedMatrix::Q4(_)));
    match options.opset {
        None if has_q4 => Ok(required.max(qdq::INT4_OPSET)),
        None => Ok(required),
        Some(opset) if opset < required => Err(Error::Unsupported {
            location: format!("model '{}'", graph.name),
            detail: format!("export at opset {opset} asked, but its nodes need opset {required}"),
        }),
        Some(opset) if opset > MAX_OPSET => Err(Error::Unsupported {
            location: format!("model '{}'", graph.name),
            detail: format!("export at opset {opset} asked; kiln knows opsets up to {MAX_OPSET}"),
        }),
        Some(opset) => Ok(opset),
    }
}

fn model_proto(graph: &Graph, options: &ExportOptions) -> Result<ModelProto> {
    let opset = export_opset(graph, options)?;
    let mut writer = NodeWriter::new(graph, opset);
    for (name, weight) in &graph.packed_weights {
        qdq::write_packed_weight(&mut writer, name, weight)?;
    }
    for node in &graph.nodes {
        nodes::write_node(&mut writer, graph, node)?;
    }
    let mut initializer: Vec<_> = graph
        .initializers
        .iter()
        .map(|(name, tensor)| tensor_to_proto(name, tensor))
        .collect();
    initializer.append(&mut writer.initializers);
    let graph_proto = GraphProto {
        node: writer.nodes,
        name: graph.name.clone(),
        initializer,
        input: graph.inputs.iter().map(value_info_proto).collect(),
        output: graph.outputs.iter().map(value_info_proto).collect(),
        ..Default::default()
    };
    Ok(ModelProto {
        ir_version: opset::ir_version(opset),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        producer_name: "kiln".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(graph_proto),
        metadata_props: graph
            .metadata
            .iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        ..Default::default()
    })
}

/// A declared input or output; unknown dims (`?`) are written without a value.
fn value_info_proto(info: &ValueInfo) -> ValueInfoProto {
    let r#type = (info.dtype.is_some() || info.shape.is_some()).then(|| TypeProto {
        value: Some(TypeValue::TensorType(TensorTypeProto {
            elem_type: info.dtype.map_or(0, dtype_code),
            shape: info.shape.as_ref().map(|dims| TensorShapeProto {
                dim: dims.iter().map(dimension_proto).collect(),
            }),
        })),
        ..Default::default()
    });
    ValueInfoProto {
        name: info.name.clone(),
        r#type,
        ..Default::default()
    }
}

fn dimension_proto(dim: &Dim) -> DimensionProto {
    let value = match dim {
        Dim::Fixed(extent) => Some(DimensionValue::DimValue(
            i64::try_from(*extent).unwrap_or(i64::MAX),
        )),
        Dim::Symbol(symbol) if symbol == "?" => None,
        Dim::Symbol(symbol) => Some(DimensionValue::DimParam(symbol.clone())),
    };
    DimensionProto {
        value,
        ..Default::default()
    }
}
