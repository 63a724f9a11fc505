//! Constant folding: nodes whose result is known before run time are evaluated once, by the CPU
//! reference backend, and replaced by initializers.

use super::{drop_unused_initializers, initializer};
use crate::error::{Error, Result};
use crate::graph::infer::{infer_types, shape_value, ValueType};
use crate::graph::{Graph, Node, Op};
use crate::tensor::HostTensor;
use std::collections::BTreeMap;

/// The most bytes one folded node may produce (64 MiB). ConstantOfShape, Expand or Range can
/// turn a few constant bytes into a huge tensor; such a node stays and runs at run time, where it
/// costs memory only while it is live instead of forever as an initializer.
pub const MAX_FOLDED_BYTES: usize = 64 << 20;

/// Evaluates every node whose inputs are all initializers, and every Shape (whose result follows
/// from `input_shapes`), replacing it by initializers; then drops the initializers nothing reads.
/// A chain folds in one call because folded outputs become initializers for later nodes.
///
/// The graph is then specialised to `input_shapes`. Not folded: nodes whose outputs together
/// exceed [`MAX_FOLDED_BYTES`], and QuantizeLinear / DequantizeLinear, which stay so that a
/// backend can run quantized weights as integers.
pub fn fold_constants(graph: &mut Graph, input_shapes: &[(String, Vec<usize>)]) -> Result<usize> {
    let types = infer_types(graph, input_shapes)?;
    let mut folded = 0;
    let mut kept = Vec::with_capacity(graph.nodes.len());
    for node in std::mem::take(&mut graph.nodes) {
        match fold_node(graph, &node, &types)? {
            Some(values) => {
                graph
                    .initializers
                    .extend(node.outputs.into_iter().zip(values));
                folded += 1;
            }
            None => kept.push(node),
        }
    }
    graph.nodes = kept;
    drop_unused_initializers(graph);
    Ok(folded)
}

/// The output values of `node` if it folds.
fn fold_node(
    graph: &Graph,
    node: &Node,
    types: &BTreeMap<String, ValueType>,
) -> Result<Option<Vec<HostTensor>>> {
    if let Op::Shape { start, end } = node.op {
        let Some(ty) = node.input(0).and_then(|input| types.get(input)) else {
            return Ok(None);
        };
        return Ok(Some(vec![shape_value(&ty.shape, start, end)?]));
    }
    if matches!(
        node.op,
        Op::QuantizeLinear { .. } | Op::DequantizeLinear { .. }
    ) {
        return Ok(None);
    }
    let values: Option<Vec<Option<&HostTensor>>> = node
        .inputs
        .iter()
        .map(|name| match name {
            None => Some(None),
            Some(name) => initializer(graph, Some(name)).map(Some),
        })
        .collect();
    let Some(values) = values.filter(|values| values.iter().any(Option::is_some)) else {
        return Ok(None);
    };
    let mut output_bytes = 0usize;
    for output in &node.outputs {
        let Some(ty) = types.get(output) else {
            return Ok(None);
        };
        output_bytes = output_bytes.saturating_add(ty.size_bytes()?);
    }
    if output_bytes > MAX_FOLDED_BYTES {
        return Ok(None);
    }
    let outputs = crate::graph::eval::eval_node(node, &values)?;
    if outputs.len() != node.outputs.len() {
        return Err(Error::InvalidModel {
            location: node.location(),
            detail: format!(
                "has {} outputs but evaluates to {}",
                node.outputs.len(),
                outputs.len()
            ),
        });
    }
    Ok(Some(outputs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::passes::testing::{
        assert_same_outputs, f32_input, node, output, random_inputs, unary,
    };
    use crate::ops::elementwise::{BinaryOp, UnaryOp};

    fn i64_tensor(shape: &[usize], values: Vec<i64>) -> HostTensor {
        HostTensor::from_i64(shape, values).unwrap()
    }

    /// `y = reshape(x, [shape(x)[0], -1]) + (-w + c)`: a shape subgraph and a constant chain.
    fn shape_and_constant_chains() -> Graph {
        let mut graph = Graph {
            inputs: vec![f32_input("x", &[2, 3, 4])],
            outputs: vec![f32_input("y", &[2, 12])],
            nodes: vec![
                node(
                    "shape",
                    Op::Shape {
                        start: 0,
                        end: None,
                    },
                    &["x"],
                    &["dims"],
                ),
                node("gather", Op::Gather { axis: 0 }, &["dims", "zero"], &["n"]),
                node("unsqueeze", Op::Unsqueeze, &["n", "axes"], &["n1"]),
                node(
                    "concat",
                    Op::Concat { axis: 0 },
                    &["n1", "minus_one"],
                    &["target"],
                ),
                node(
                    "reshape",
                    Op::Reshape { allowzero: false },
                    &["x", "target"],
                    &["flat"],
                ),
                node("neg", unary(UnaryOp::Neg), &["w"], &["minus_w"]),
                node(
                    "add_c",
                    Op::Binary(BinaryOp::Add),
                    &["minus_w", "c"],
                    &["bias"],
                ),
                node("add", Op::Binary(BinaryOp::Add), &["flat", "bias"], &["y"]),
            ],
            ..Graph::default()
        };
        let weights = (0..12).map(|i| i as f32 * 0.25).collect();
        let tensors = [
            ("zero", i64_tensor(&[], vec![0])),
            ("axes", i64_tensor(&[1], vec![0])),
            ("minus_one", i64_tensor(&[1], vec![-1])),
            ("w", HostTensor::from_f32(&[12], weights).unwrap()),
            ("c", HostTensor::from_f32(&[1], vec![0.5]).unwrap()),
        ];
        graph
            .initializers
            .extend(tensors.into_iter().map(|(name, t)| (name.to_string(), t)));
        graph
    }

    #[test]
    fn shape_and_constant_chains_become_initializers() {
        let before = shape_and_constant_chains();
        let mut after = before.clone();
        assert_eq!(fold_constants(&mut after, &[]).unwrap(), 6);
        after.validate().unwrap();
        let ops: Vec<&str> = after.nodes.iter().map(|n| n.op.name()).collect();
        assert_eq!(ops, ["Reshape", "Add"]);
        let names: Vec<&str> = after.initializers.keys().map(String::as_str).collect();
        assert_eq!(names, ["bias", "target"]);
        assert_eq!(after.initializers["target"], i64_tensor(&[2], vec![2, -1]));
        // The folded nodes ran on the same backend with the same values: equal bit for bit.
        assert_same_outputs(&before, &after, &random_inputs(&before, 3), 0.0);
    }

    #[test]
    fn huge_outputs_and_dequantization_stay() {
        let fill = HostTensor::from_f32(&[1], vec![1.0]).unwrap();
        let mut graph = Graph {
            inputs: vec![f32_input("x", &[1])],
            outputs: vec![output("big"), output("weight")],
            nodes: vec![
                node(
                    "fill",
                    Op::ConstantOfShape { value: fill },
                    &["shape"],
                    &["big"],
                ),
                node(
                    "dq",
                    Op::DequantizeLinear { axis: 1 },
                    &["q", "scale"],
                    &["weight"],
                ),
            ],
            ..Graph::default()
        };
        // 2¹⁴ × 2¹² f32 elements are 256 MiB, four times the cap.
        let constants = [
            ("shape", i64_tensor(&[2], vec![1 << 14, 1 << 12])),
            (
                "q",
                HostTensor::new(&[2], crate::tensor::TensorData::I8(vec![3, -4])).unwrap(),
            ),
            ("scale", HostTensor::from_f32(&[], vec![0.5]).unwrap()),
        ];
        graph
            .initializers
            .extend(constants.into_iter().map(|(name, t)| (name.to_string(), t)));
        assert_eq!(fold_constants(&mut graph, &[]).unwrap(), 0);
        assert_eq!(graph.nodes.len(), 2);
        assert_eq!(graph.initializers.len(), 3);
    }
}
