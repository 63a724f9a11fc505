//! A [`Graph`] to ONNX bytes: opset 17 (IR version 8) unless an op needs a later one (see
//! `opset.rs`: GELU needs 20, wrap padding 19, Split into `num_outputs` parts 18, ...),
//! initializers as little-endian `raw_data`, declared shapes with symbolic dims as `dim_param`,
//! and the metadata as `metadata_props`.

mod nodes;
mod opset;
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
use super::tensor::{dtype_code, tensor_to_proto};
use crate::error::{Error, Result};
use crate::graph::{Dim, Graph, ValueInfo};
use prost::Message;
use std::path::Path;
use writer::NodeWriter;

/// `graph` as the bytes of an ONNX model file.
pub fn to_onnx_bytes(graph: &Graph) -> Result<Vec<u8>> {
    Ok(model_proto(graph)?.encode_to_vec())
}

/// Writes `graph` to `path` as an ONNX model.
pub fn save_onnx(graph: &Graph, path: &Path) -> Result<()> {
    let bytes = to_onnx_bytes(graph)?;
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

fn model_proto(graph: &Graph) -> Result<ModelProto> {
    let opset = opset::required_opset(graph);
    let mut writer = NodeWriter::new(graph, opset);
    for node in &graph.nodes {
        nodes::write_node(&mut writer, node)?;
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
