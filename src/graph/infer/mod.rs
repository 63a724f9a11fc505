//! Shape and dtype inference: every value's concrete dtype and shape once the graph inputs'
//! shapes are bound.
//!
//! The walk visits the nodes in order and applies one shape rule per [`Op`] (in `rules` and the
//! family files beside it). Ops whose output shape depends on the *values* of an input (Reshape's
//! shape, Slice's starts, Resize's scales, ...) read those values from the constants the walk
//! knows: the initializers, the output of every Shape whose input shape is known, and the outputs
//! of small nodes whose inputs are all known constants, computed with the CPU reference backend
//! ([`crate::graph::eval::eval_node`]). A shape subgraph such as
//! `Shape → Gather → Unsqueeze → Concat → Reshape` is thereby resolved.

mod inputs;
pub(crate) mod layout;
pub(crate) mod math;
pub(crate) mod rules;
pub(crate) mod spatial;

use crate::error::{Error, Result};
use crate::graph::{Graph, Node, Op};
use crate::tensor::{element_count, DType, HostTensor};
use rules::{NodeInputs, Operand};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// The most elements a computed value may have for inference to keep it. Shape arithmetic
/// handles vectors of a tensor's rank; anything larger is data, whose values no shape needs.
const MAX_TRACKED_ELEMENTS: usize = 4096;

/// The concrete element type and shape of one value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueType {
    /// The element type.
    pub dtype: DType,
    /// The extents, outermost first (empty for a scalar).
    pub shape: Vec<usize>,
}

impl ValueType {
    /// A value of `dtype` and `shape`.
    pub fn new(dtype: DType, shape: Vec<usize>) -> Self {
        ValueType { dtype, shape }
    }

    /// The type of `tensor`.
    pub fn of(tensor: &HostTensor) -> Self {
        ValueType::new(tensor.dtype(), tensor.shape().to_vec())
    }

    /// The number of elements, or an error when the shape's product overflows.
    pub fn element_count(&self) -> Result<usize> {
        element_count(&self.shape)
    }

    /// Bytes the elements occupy, or an error when that overflows.
    pub fn size_bytes(&self) -> Result<usize> {
        self.element_count()?
            .checked_mul(self.dtype.size_bytes())
            .ok_or_else(|| Error::InvalidArgument {
                op: "shape inference",
                detail: format!("{self} does not fit in memory"),
            })
    }
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{:?}", self.dtype, self.shape)
    }
}

/// The dtype and shape of every value of `graph` (inputs, initializers and node outputs) when the
/// graph inputs have the shapes in `input_shapes`.
///
/// Each graph input must declare its dtype. Its shape comes from `input_shapes`, or from its
/// declaration when that is fully fixed; a given shape must match the declared rank and fixed
/// extents, and a named symbol (`batch`) must bind to one size across all inputs. Errors name the
/// node or input at fault.
///
/// ```
/// use kiln::graph::{infer::infer_types, Graph, Node, Op, ValueInfo, Dim};
/// use kiln::tensor::DType;
/// let graph = Graph {
///     inputs: vec![ValueInfo {
///         name: "x".into(),
///         dtype: Some(DType::F32),
///         shape: Some(vec![Dim::Symbol("batch".into()), Dim::Fixed(8)]),
///     }],
///     outputs: vec![ValueInfo { name: "y".into(), dtype: None, shape: None }],
///     nodes: vec![Node {
///         name: "t".into(),
///         op: Op::Transpose { perm: None },
///         inputs: vec![Some("x".into())],
///         outputs: vec!["y".into()],
///     }],
///     ..Graph::default()
/// };
/// let types = infer_types(&graph, &[("x".into(), vec![3, 8])])?;
/// assert_eq!(types["y"].shape, [8, 3]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn infer_types(
    graph: &Graph,
    input_shapes: &[(String, Vec<usize>)],
) -> Result<BTreeMap<String, ValueType>> {
    let mut walk = Inference::new(graph, input_shapes)?;
    for node in &graph.nodes {
        walk.visit(node)?;
    }
    Ok(walk.types)
}

/// The state of one inference walk: the types so far and the constant values known.
struct Inference<'g> {
    types: BTreeMap<String, ValueType>,
    constants: HashMap<String, Cow<'g, HostTensor>>,
}

impl<'g> Inference<'g> {
    fn new(graph: &'g Graph, input_shapes: &[(String, Vec<usize>)]) -> Result<Self> {
        let mut types = inputs::bind_inputs(graph, input_shapes)?;
        let mut constants = HashMap::new();
        for (name, tensor) in &graph.initializers {
            types.insert(name.clone(), ValueType::of(tensor));
            constants.insert(name.clone(), Cow::Borrowed(tensor));
        }
        for (name, weight) in &graph.packed_weights {
            types.insert(name.clone(), weight.value_type());
        }
        Ok(Inference { types, constants })
    }

    /// Infers `node`'s output types, and its output values when they are known constants.
    fn visit(&mut self, node: &Node) -> Result<()> {
        let (types, values) = {
            let operands = self.operands(node)?;
            let inputs = NodeInputs::new(node, &operands);
            let types = (node.op.family().spec().shape)(&inputs)?;
            if types.len() != node.outputs.len() {
                return Err(inputs.error(format!(
                    "has {} outputs, the op produces {}",
                    node.outputs.len(),
                    types.len()
                )));
            }
            let values = constant_outputs(&inputs, &types)?;
            (types, values)
        };
        for (name, value) in node.outputs.iter().zip(values.into_iter().flatten()) {
            self.constants.insert(name.clone(), Cow::Owned(value));
        }
        for (name, ty) in node.outputs.iter().zip(types) {
            self.types.insert(name.clone(), ty);
        }
        Ok(())
    }

    fn operands(&self, node: &Node) -> Result<Vec<Option<Operand<'_>>>> {
        node.inputs
            .iter()
            .map(|name| {
                let Some(name) = name else { return Ok(None) };
                let ty = self.types.get(name).ok_or_else(|| Error::InvalidModel {
                    location: node.location(),
                    detail: format!("input '{name}' is not produced by an earlier node"),
                })?;
                let value = self.constants.get(name).map(|value| value.as_ref());
                Ok(Some(Operand { ty, value }))
            })
            .collect()
    }
}

/// The output values of a node whose result is a known constant: a Shape of a known shape, or a
/// small node whose inputs are all known (evaluated by the CPU backend). `None` otherwise.
fn constant_outputs(
    inputs: &NodeInputs<'_>,
    types: &[ValueType],
) -> Result<Option<Vec<HostTensor>>> {
    if let Op::Shape { start, end } = inputs.node.op {
        let shape = inputs.shape(0)?;
        return Ok(Some(vec![shape_value(shape, start, end)?]));
    }
    let Some(values) = inputs.all_values() else {
        return Ok(None);
    };
    for ty in types {
        if ty.element_count()? > MAX_TRACKED_ELEMENTS {
            return Ok(None);
        }
    }
    let outputs = super::eval::eval_node(inputs.node, &values)?;
    for (output, ty) in outputs.iter().zip(types) {
        if ValueType::of(output) != *ty {
            return Err(inputs.error(format!(
                "inference gives {ty} but evaluating the node gave {}",
                ValueType::of(output)
            )));
        }
    }
    Ok(Some(outputs))
}

/// ONNX Shape's value: `shape[start..end]` as i64, negative bounds counted from the end and both
/// clamped to `[0, rank]`.
pub(crate) fn shape_value(shape: &[usize], start: i64, end: Option<i64>) -> Result<HostTensor> {
    let (start, end) = shape_range(shape.len(), start, end);
    let dims: Vec<i64> = shape[start..end.max(start)]
        .iter()
        .map(|&dim| dim as i64)
        .collect();
    HostTensor::from_i64(&[dims.len()], dims)
}

/// Shape's `[start, end)` resolved against `rank` (`end` may fall below `start`).
pub(crate) fn shape_range(rank: usize, start: i64, end: Option<i64>) -> (usize, usize) {
    let resolve = |bound: i64| {
        let bound = if bound < 0 {
            bound.saturating_add(rank as i64)
        } else {
            bound
        };
        bound.clamp(0, rank as i64) as usize
    };
    (resolve(start), end.map_or(rank, resolve))
}

#[cfg(test)]
mod tests;
