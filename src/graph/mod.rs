//! kiln's model IR: a [`Graph`] of [`Node`]s, each holding one typed [`Op`], connected by value
//! names (as in ONNX). Importers (`crate::import`) build it, [`passes`] rewrite it, [`infer`]
//! gives every value a dtype and shape, and `crate::runtime` runs it on the GPU or the CPU
//! reference backend.
//!
//! Invariants every importer establishes and every pass keeps (checked by [`Graph::validate`]):
//! nodes are in topological order, every value has exactly one producer (a graph input, an
//! initializer or one node output), and every node input and graph output names such a value.

mod conv_defaults;
pub mod eval;
pub mod infer;
mod op;
mod packed;
pub mod packing;
pub mod passes;
pub mod registry;

pub use op::{AutoPad, CompareOp, ConvAttrs, ConvTransposeAttrs, Op, PoolAttrs, ResizeAttrs};
pub use packed::{PackedMatrix, PackedWeight};

use crate::error::{Error, Result};
use crate::tensor::{DType, HostTensor};
use std::collections::{BTreeMap, HashSet};

/// One dimension of a declared input or output shape.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Dim {
    /// A known extent.
    Fixed(usize),
    /// A named extent bound at run time (`batch`, `height`); unnamed dynamic dims are `Symbol("?")`.
    Symbol(String),
}

/// A graph input or output: its name and what the model declares about it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValueInfo {
    /// The value's name.
    pub name: String,
    /// The declared element type, if any.
    pub dtype: Option<DType>,
    /// The declared shape, if any.
    pub shape: Option<Vec<Dim>>,
}

/// One operation applied to named values.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Node {
    /// The node's name (importers invent `<op>_<index>` when the file has none).
    pub name: String,
    /// What it computes.
    pub op: Op,
    /// Input value names in the op's order; `None` for an omitted optional input.
    pub inputs: Vec<Option<String>>,
    /// Output value names in the op's order.
    pub outputs: Vec<String>,
}

impl Node {
    /// `node 'name' (Op)`, for error locations.
    pub fn location(&self) -> String {
        format!("node '{}' ({})", self.name, self.op.name())
    }

    /// The name of input `index`, if present.
    pub fn input(&self, index: usize) -> Option<&str> {
        self.inputs.get(index).and_then(|name| name.as_deref())
    }
}

/// A model: declared inputs and outputs, constant tensors, and nodes in topological order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// The graph's name.
    pub name: String,
    /// Values supplied at run time (initializers are never listed here).
    pub inputs: Vec<ValueInfo>,
    /// Values returned by a run.
    pub outputs: Vec<ValueInfo>,
    /// Dense constant tensors by value name (weights, and Constant nodes after import).
    pub initializers: BTreeMap<String, HostTensor>,
    /// Weights stored in a compressed layout (Q8, Q4, BSR, N:M), by value name; never also in
    /// `initializers`. Only a MatMul or Gemm `B` and a Conv `W` may read one.
    pub packed_weights: BTreeMap<String, PackedWeight>,
    /// The nodes, producers before consumers.
    pub nodes: Vec<Node>,
    /// Free-form model metadata (ONNX `metadata_props`: e.g. `names` for class labels).
    pub metadata: BTreeMap<String, String>,
}

impl Graph {
    /// Checks the invariants in the module docs: each value produced once, each use after its
    /// producer, each output produced. The error names the offending node.
    pub fn validate(&self) -> Result<()> {
        let mut defined: HashSet<&str> = HashSet::new();
        for input in &self.inputs {
            if self.initializers.contains_key(&input.name) {
                // ONNX IR < 4 lists initializers among the inputs; importers drop those.
                return Err(invalid(
                    format!("graph input '{}'", input.name),
                    "is also an initializer".into(),
                ));
            }
            if !defined.insert(&input.name) {
                return Err(invalid(
                    format!("graph input '{}'", input.name),
                    "is declared twice".into(),
                ));
            }
        }
        defined.extend(self.initializers.keys().map(String::as_str));
        for name in self.packed_weights.keys() {
            if !defined.insert(name) {
                return Err(invalid(
                    format!("packed weight '{name}'"),
                    "is also a graph input or a dense initializer".into(),
                ));
            }
        }
        for node in &self.nodes {
            for (index, name) in node.inputs.iter().enumerate() {
                let Some(name) = name else { continue };
                if self.packed_weights.contains_key(name) && !takes_packed_weight(&node.op, index) {
                    return Err(invalid(
                        node.location(),
                        format!("input {index} ('{name}') is a packed weight; only a MatMul or Gemm B and a Conv W may be"),
                    ));
                }
                if !defined.contains(name.as_str()) {
                    return Err(invalid(
                        node.location(),
                        format!("input '{name}' is not produced by any earlier node, graph input or initializer (a cycle or a missing initializer)"),
                    ));
                }
            }
            for name in &node.outputs {
                if name.is_empty() || !defined.insert(name) {
                    return Err(invalid(
                        node.location(),
                        format!("output '{name}' is empty or already defined"),
                    ));
                }
            }
        }
        for output in &self.outputs {
            if !defined.contains(output.name.as_str()) {
                return Err(invalid(
                    format!("graph output '{}'", output.name),
                    "is produced by nothing".into(),
                ));
            }
        }
        Ok(())
    }

    /// The node producing `value`, with its index.
    pub fn producer(&self, value: &str) -> Option<(usize, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .find(|(_, node)| node.outputs.iter().any(|output| output == value))
    }

    /// How many node inputs and graph outputs read `value`.
    pub fn use_count(&self, value: &str) -> usize {
        let node_uses = self
            .nodes
            .iter()
            .flat_map(|node| node.inputs.iter().flatten())
            .filter(|name| *name == value)
            .count();
        node_uses + self.outputs.iter().filter(|o| o.name == value).count()
    }
}

/// Whether input `index` of `op` may be a [`PackedWeight`]: a MatMul or Gemm `B`, a Conv `W`.
pub fn takes_packed_weight(op: &Op, index: usize) -> bool {
    matches!(
        (op, index),
        (Op::MatMul { .. }, 1) | (Op::Gemm { .. }, 1) | (Op::Conv(_), 1)
    )
}

fn invalid(location: String, detail: String) -> Error {
    Error::InvalidModel { location, detail }
}
