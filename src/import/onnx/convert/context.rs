//! The state one model's conversion shares across nodes ([`ModelState`]: opset, initializers,
//! names in use) and the view one converter gets of its node ([`NodeContext`]): its attributes,
//! its inputs and outputs, and the means to turn an old-opset attribute into a synthesised
//! initializer input.

use crate::error::{Error, Result};
use crate::graph::{Node, Op};
use crate::import::onnx::attributes::Attributes;
use crate::import::onnx::external::ExternalData;
use crate::import::onnx::names::NameSet;
use crate::import::onnx::proto::{NodeProto, TensorProto};
use crate::import::onnx::tensor::tensor_from_proto;
use crate::tensor::HostTensor;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What every node's conversion reads and extends.
pub(crate) struct ModelState<'e> {
    /// The model's default-domain opset.
    pub(crate) opset: i64,
    /// Initializers: the file's, Constant nodes', and synthesised ones.
    pub(crate) initializers: BTreeMap<String, HostTensor>,
    /// Every value name in the model, so synthesised names never collide.
    pub(crate) names: NameSet,
    /// Values some node or graph output reads (optional outputs outside this set are dropped).
    pub(crate) used_values: HashSet<String>,
    /// Reader for tensors stored outside the file.
    pub(crate) external: ExternalData<'e>,
    /// The rank of every graph input and `value_info` entry whose shape the file declares.
    pub(crate) declared_ranks: HashMap<String, usize>,
    /// Nodes converters synthesised beside their own (an opset-6 broadcast's Reshape).
    pub(crate) extra_nodes: Vec<Node>,
}

/// One node being converted.
pub(crate) struct NodeContext<'p, 's, 'e> {
    /// The ONNX op type.
    pub(crate) op_type: &'p str,
    /// The node's name (invented when the file has none).
    pub(crate) name: String,
    /// The model's opset.
    pub(crate) opset: i64,
    /// The node's attributes.
    pub(crate) attrs: Attributes<'p>,
    inputs: Vec<Option<String>>,
    outputs: Vec<String>,
    state: &'s mut ModelState<'e>,
}

impl<'p, 's, 'e> NodeContext<'p, 's, 'e> {
    /// The context for `proto`, named `name`.
    pub(crate) fn new(
        proto: &'p NodeProto,
        name: String,
        state: &'s mut ModelState<'e>,
    ) -> Result<Self> {
        let location = format!("node '{name}' ({})", proto.op_type);
        let attrs = Attributes::new(location, &proto.attribute)?;
        let inputs = proto
            .input
            .iter()
            .map(|input| (!input.is_empty()).then(|| input.clone()))
            .collect();
        let mut context = NodeContext {
            op_type: &proto.op_type,
            name,
            opset: state.opset,
            attrs,
            inputs,
            outputs: proto.output.clone(),
            state,
        };
        context.trim_inputs();
        Ok(context)
    }

    /// `node 'name' (OpType)`.
    pub(crate) fn location(&self) -> &str {
        self.attrs.location()
    }

    /// An [`Error::InvalidModel`] at this node.
    pub(crate) fn invalid(&self, detail: String) -> Error {
        Error::InvalidModel {
            location: self.location().to_string(),
            detail,
        }
    }

    /// An [`Error::Unsupported`] at this node.
    pub(crate) fn unsupported(&self, detail: String) -> Error {
        Error::Unsupported {
            location: self.location().to_string(),
            detail,
        }
    }

    /// How many inputs the node has (trailing omitted ones not counted).
    pub(crate) fn input_count(&self) -> usize {
        self.inputs.len()
    }

    /// True when input `index` is given.
    pub(crate) fn has_input(&self, index: usize) -> bool {
        self.inputs.get(index).is_some_and(Option::is_some)
    }

    /// The name of input `index`, if given.
    pub(crate) fn input_name(&self, index: usize) -> Option<String> {
        self.inputs.get(index).cloned().flatten()
    }

    /// The initializer feeding input `index`, if that input is a constant.
    pub(crate) fn constant_input(&self, index: usize) -> Option<&HostTensor> {
        let name = self.inputs.get(index)?.as_ref()?;
        self.state.initializers.get(name)
    }

    /// The rank of input `index` when an initializer or a declared shape fixes it.
    pub(crate) fn known_rank(&self, index: usize) -> Option<usize> {
        let name = self.inputs.get(index)?.as_ref()?;
        match self.state.initializers.get(name) {
            Some(tensor) => Some(tensor.shape().len()),
            None => self.state.declared_ranks.get(name).copied(),
        }
    }

    /// Feeds input `index` through a synthesised Reshape to `shape` (a 0 copies the input's
    /// dimension), both synthesised: the shape as an initializer, the Reshape as an extra node.
    pub(crate) fn reshape_input(&mut self, index: usize, shape: Vec<i64>) -> Result<()> {
        let Some(source) = self.input_name(index) else {
            return Err(self.invalid(format!("input {index} is omitted")));
        };
        let shape_tensor = HostTensor::from_i64(&[shape.len()], shape)?;
        let shape_name = self.state.names.fresh(&format!("{}::shape", self.name));
        self.state
            .initializers
            .insert(shape_name.clone(), shape_tensor);
        let output = self.state.names.fresh(&format!("{}::reshaped", self.name));
        self.state.extra_nodes.push(Node {
            name: self.state.names.fresh(&format!("{}::reshape", self.name)),
            op: Op::Reshape { allowzero: false },
            inputs: vec![Some(source), Some(shape_name)],
            outputs: vec![output.clone()],
        });
        self.set_input(index, Some(output));
        Ok(())
    }

    /// Checks the node has between `required` and `max` inputs and the first `required` are given.
    pub(crate) fn expect_inputs(&self, required: usize, max: usize) -> Result<()> {
        let count = self.inputs.len();
        if count > max || (0..required).any(|index| !self.has_input(index)) {
            return Err(self.invalid(format!(
                "takes {required} to {max} inputs at opset {}, has {}",
                self.opset,
                listed(self.inputs.iter().map(Option::as_deref))
            )));
        }
        Ok(())
    }

    /// How many outputs the node declares.
    pub(crate) fn output_count(&self) -> usize {
        self.outputs.len()
    }

    /// Checks the node has at most `max` outputs and keeps the first `keep` (which must be
    /// named). The optional outputs after them, which kiln does not compute, are dropped when
    /// nothing reads them and [`Error::Unsupported`] otherwise.
    pub(crate) fn expect_outputs(&mut self, keep: usize, max: usize) -> Result<()> {
        let count = self.outputs.len();
        if count > max || count < keep || self.outputs[..keep].iter().any(String::is_empty) {
            return Err(self.invalid(format!(
                "takes {keep} to {max} outputs (the first {keep} named), has {}",
                listed(self.outputs.iter().map(|name| Some(name.as_str())))
            )));
        }
        if let Some(used) = self.outputs[keep..]
            .iter()
            .find(|name| self.state.used_values.contains(*name))
        {
            return Err(self.unsupported(format!(
                "optional output '{used}' is read by the model; kiln computes only the first {keep} output(s)"
            )));
        }
        self.outputs.truncate(keep);
        Ok(())
    }

    /// Sets input `index` (padding with omitted inputs before it).
    pub(crate) fn set_input(&mut self, index: usize, name: Option<String>) {
        if self.inputs.len() <= index {
            self.inputs.resize(index + 1, None);
        }
        self.inputs[index] = name;
        self.trim_inputs();
    }

    /// Adds `tensor` as an initializer named `<node>::<suffix>` and feeds it to input `index`:
    /// how an attribute that later opsets made an input is normalised.
    pub(crate) fn add_constant_input(&mut self, index: usize, suffix: &str, tensor: HostTensor) {
        let name = self.state.names.fresh(&format!("{}::{suffix}", self.name));
        self.state.initializers.insert(name.clone(), tensor);
        self.set_input(index, Some(name));
    }

    /// The INTS attribute `attr`, if present, as an i64 initializer fed to input `index`.
    pub(crate) fn ints_attribute_to_input(&mut self, attr: &str, index: usize) -> Result<()> {
        if let Some(values) = self.attrs.ints(attr)? {
            let tensor = HostTensor::from_i64(&[values.len()], values.to_vec())?;
            self.add_constant_input(index, attr, tensor);
        }
        Ok(())
    }

    /// Decodes a TENSOR attribute's value.
    pub(crate) fn decode_tensor(&mut self, attr: &str, proto: &TensorProto) -> Result<HostTensor> {
        let location = format!("{} attribute '{attr}'", self.location());
        tensor_from_proto(proto, &location, &mut self.state.external)
    }

    /// The finished node.
    pub(crate) fn into_node(mut self, op: Op) -> Node {
        self.trim_inputs();
        Node {
            name: self.name,
            op,
            inputs: self.inputs,
            outputs: self.outputs,
        }
    }

    fn trim_inputs(&mut self) {
        while self.inputs.last().is_some_and(Option::is_none) {
            self.inputs.pop();
        }
    }
}

/// Value names for a message, as the file lists them: `'x', (omitted), 'w'`, or `none`.
fn listed<'a>(names: impl Iterator<Item = Option<&'a str>>) -> String {
    let names: Vec<String> = names
        .map(|name| match name {
            Some(name) if !name.is_empty() => format!("'{name}'"),
            _ => "(omitted)".to_string(),
        })
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::listed;

    #[test]
    fn names_are_listed_without_rust_debug_text() {
        let names = [Some("x"), None, Some(""), Some("w")];
        assert_eq!(listed(names.into_iter()), "'x', (omitted), (omitted), 'w'");
        assert_eq!(listed(std::iter::empty()), "none");
    }
}
