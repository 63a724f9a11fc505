//! The pieces export assembles nodes from: attribute constructors and a [`NodeWriter`] that
//! collects `NodeProto`s and extra initializers under names that collide with nothing in the
//! graph.

use crate::graph::Graph;
use crate::import::onnx::names::NameSet;
use crate::import::onnx::proto::{AttributeProto, AttributeType, NodeProto, TensorProto};
use crate::import::onnx::tensor::tensor_to_proto;
use crate::tensor::HostTensor;
use std::collections::HashSet;

/// An INT attribute.
pub(crate) fn int_attribute(name: &str, value: i64) -> AttributeProto {
    attribute(name, AttributeType::Int, |attribute| attribute.i = value)
}

/// An INT attribute from a flag (0 or 1).
pub(crate) fn bool_attribute(name: &str, value: bool) -> AttributeProto {
    int_attribute(name, i64::from(value))
}

/// An INTS attribute.
pub(crate) fn ints_attribute(name: &str, values: &[i64]) -> AttributeProto {
    attribute(name, AttributeType::Ints, |attribute| {
        attribute.ints = values.to_vec()
    })
}

/// An INTS attribute from extents.
pub(crate) fn counts_attribute(name: &str, values: &[usize]) -> AttributeProto {
    let values: Vec<i64> = values
        .iter()
        .map(|&value| i64::try_from(value).unwrap_or(i64::MAX))
        .collect();
    ints_attribute(name, &values)
}

/// A FLOAT attribute.
pub(crate) fn float_attribute(name: &str, value: f32) -> AttributeProto {
    attribute(name, AttributeType::Float, |attribute| attribute.f = value)
}

/// A STRING attribute.
pub(crate) fn string_attribute(name: &str, value: &str) -> AttributeProto {
    attribute(name, AttributeType::String, |attribute| {
        attribute.s = value.as_bytes().to_vec()
    })
}

/// A TENSOR attribute.
pub(crate) fn tensor_attribute(name: &str, value: TensorProto) -> AttributeProto {
    attribute(name, AttributeType::Tensor, |attribute| {
        attribute.t = Some(value)
    })
}

fn attribute(
    name: &str,
    kind: AttributeType,
    set: impl FnOnce(&mut AttributeProto),
) -> AttributeProto {
    let mut attribute = AttributeProto {
        name: name.to_string(),
        r#type: kind as i32,
        ..Default::default()
    };
    set(&mut attribute);
    attribute
}

/// Collects the exported nodes and the initializers export adds (Clip bounds, pad values).
pub(crate) struct NodeWriter {
    /// The opset being written.
    pub(crate) opset: i64,
    /// Nodes written so far, in order.
    pub(crate) nodes: Vec<NodeProto>,
    /// Initializers export added.
    pub(crate) initializers: Vec<TensorProto>,
    names: NameSet,
}

impl NodeWriter {
    /// A writer for `graph` at `opset`; every value and node name of `graph` is reserved.
    pub(crate) fn new(graph: &Graph, opset: i64) -> NodeWriter {
        let mut taken_names: HashSet<String> = graph.initializers.keys().cloned().collect();
        taken_names.extend(
            graph
                .inputs
                .iter()
                .chain(&graph.outputs)
                .map(|info| info.name.clone()),
        );
        for node in &graph.nodes {
            taken_names.insert(node.name.clone());
            taken_names.extend(node.inputs.iter().flatten().chain(&node.outputs).cloned());
        }
        NodeWriter {
            opset,
            nodes: Vec::new(),
            initializers: Vec::new(),
            names: NameSet::new(taken_names),
        }
    }

    /// A name starting with `base` that nothing else uses.
    pub(crate) fn fresh_name(&mut self, base: &str) -> String {
        self.names.fresh(base)
    }

    /// Adds `tensor` as an initializer under a fresh name from `base`; returns the name.
    pub(crate) fn constant(&mut self, base: &str, tensor: &HostTensor) -> String {
        let name = self.fresh_name(base);
        self.initializers.push(tensor_to_proto(&name, tensor));
        name
    }

    /// Appends one node.
    pub(crate) fn emit(
        &mut self,
        name: &str,
        op_type: &str,
        inputs: Vec<String>,
        outputs: Vec<String>,
        attribute: Vec<AttributeProto>,
    ) {
        self.nodes.push(NodeProto {
            input: inputs,
            output: outputs,
            name: name.to_string(),
            op_type: op_type.to_string(),
            attribute,
            ..Default::default()
        });
    }
}
