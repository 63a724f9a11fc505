//! Test helpers: ONNX models built in code (nodes, attributes, tensors, value infos) and a
//! temporary directory for external-data files.

use super::export::writer::{int_attribute, ints_attribute, string_attribute, tensor_attribute};
use super::proto::{
    AttributeProto, AttributeType, DimensionProto, DimensionValue, GraphProto, ModelProto,
    NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TensorTypeProto, TypeProto,
    TypeValue, ValueInfoProto,
};
use super::tensor::{dtype_code, tensor_to_proto};
use crate::error::Result;
use crate::graph::Graph;
use crate::tensor::{DType, HostTensor};
use prost::Message;
use std::path::PathBuf;

/// A node with the given attributes.
pub(crate) fn node(
    op_type: &str,
    inputs: &[&str],
    outputs: &[&str],
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|name| name.to_string()).collect(),
        output: outputs.iter().map(|name| name.to_string()).collect(),
        name: format!("{op_type}_node"),
        op_type: op_type.into(),
        attribute,
        ..Default::default()
    }
}

/// An INT attribute.
pub(crate) fn int(name: &str, value: i64) -> AttributeProto {
    int_attribute(name, value)
}

/// An INTS attribute.
pub(crate) fn ints(name: &str, values: &[i64]) -> AttributeProto {
    ints_attribute(name, values)
}

/// A TENSOR attribute.
pub(crate) fn tensor(name: &str, value: TensorProto) -> AttributeProto {
    tensor_attribute(name, value)
}

/// A STRING attribute.
pub(crate) fn string(name: &str, value: &str) -> AttributeProto {
    string_attribute(name, value)
}

/// A FLOAT attribute.
pub(crate) fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Float as i32,
        f: value,
        ..Default::default()
    }
}

/// A FLOATS attribute.
pub(crate) fn floats(name: &str, values: &[f32]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Floats as i32,
        floats: values.to_vec(),
        ..Default::default()
    }
}

/// An f32 initializer.
pub(crate) fn f32_tensor(name: &str, shape: &[usize], values: Vec<f32>) -> TensorProto {
    tensor_to_proto(name, &HostTensor::from_f32(shape, values).unwrap())
}

/// A 1-D i64 initializer.
pub(crate) fn i64_tensor(name: &str, values: &[i64]) -> TensorProto {
    tensor_to_proto(
        name,
        &HostTensor::from_i64(&[values.len()], values.to_vec()).unwrap(),
    )
}

/// A tensor value info; negative dims become the symbol `batch`.
pub(crate) fn tensor_info(name: &str, dtype: DType, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&extent| DimensionProto {
            value: Some(if extent < 0 {
                DimensionValue::DimParam("batch".into())
            } else {
                DimensionValue::DimValue(extent)
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TensorTypeProto {
                elem_type: dtype_code(dtype),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A model at `opset` with one f32 input `x` of shape `[batch, 3, 8, 8]` and the given outputs.
pub(crate) fn model(
    opset: i64,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    outputs: &[&str],
) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(GraphProto {
            node: nodes,
            name: "test".into(),
            initializer: initializers,
            input: vec![tensor_info("x", DType::F32, &[-1, 3, 8, 8])],
            output: outputs
                .iter()
                .map(|name| ValueInfoProto {
                    name: name.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Encodes and parses `model`.
pub(crate) fn parse(model: &ModelProto) -> Result<Graph> {
    super::parse_onnx(&model.encode_to_vec(), None)
}

/// The error message of parsing `model`, which must fail.
pub(crate) fn parse_error(model: &ModelProto) -> String {
    match parse(model) {
        Ok(graph) => panic!("expected an error, parsed {} nodes", graph.nodes.len()),
        Err(error) => error.to_string(),
    }
}

/// A fresh directory under the system temp dir, removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    /// Creates `kiln-onnx-<label>-<pid>-<time>`.
    pub(crate) fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let path =
            std::env::temp_dir().join(format!("kiln-onnx-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
