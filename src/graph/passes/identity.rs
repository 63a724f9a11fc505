//! Removing Identity and (inference-mode) Dropout nodes, which copy their input.

use super::{is_graph_output, replace_uses};
use crate::error::{Error, Result};
use crate::graph::{Graph, Op};

/// Removes every Identity and Dropout node, rewiring its consumers to its input. When the node's
/// output is a graph output, the producer of its input is renamed to produce that output instead;
/// a node whose input is a graph input, an initializer or another graph output stays (a graph
/// output must keep its name). A Dropout whose mask output is used stays too.
pub fn remove_identities(graph: &mut Graph) -> Result<usize> {
    let mut removed = 0;
    let mut index = 0;
    while index < graph.nodes.len() {
        if try_remove(graph, index)? {
            removed += 1;
        } else {
            index += 1;
        }
    }
    Ok(removed)
}

/// Removes node `index` if it is a removable copy; true when it did.
fn try_remove(graph: &mut Graph, index: usize) -> Result<bool> {
    let node = &graph.nodes[index];
    if !matches!(node.op, Op::Identity | Op::Dropout) {
        return Ok(false);
    }
    let (Some(input), Some(output)) = (node.input(0), node.outputs.first()) else {
        return Err(Error::InvalidModel {
            location: node.location(),
            detail: "needs one input and one output".into(),
        });
    };
    let (input, output) = (input.to_string(), output.clone());
    let mask_used = node.outputs[1..]
        .iter()
        .any(|mask| graph.use_count(mask) > 0);
    if mask_used {
        return Ok(false);
    }
    if !is_graph_output(graph, &output) {
        graph.nodes.remove(index);
        replace_uses(graph, &output, &input);
        return Ok(true);
    }
    if is_graph_output(graph, &input) {
        return Ok(false);
    }
    let Some((producer, _)) = graph.producer(&input) else {
        // A graph input or an initializer: the output's name can only come from this node.
        return Ok(false);
    };
    graph.nodes.remove(index);
    for name in &mut graph.nodes[producer].outputs {
        if *name == input {
            name.clone_from(&output);
        }
    }
    replace_uses(graph, &input, &output);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::passes::testing::{
        assert_same_outputs, f32_input, node, random_inputs, unary,
    };
    use crate::ops::elementwise::UnaryOp;

    /// x → Identity → Neg → Dropout → Abs → Identity → y, with y a graph output.
    fn chain() -> Graph {
        Graph {
            inputs: vec![f32_input("x", &[2, 3])],
            outputs: vec![f32_input("y", &[2, 3])],
            nodes: vec![
                node("id0", Op::Identity, &["x"], &["a"]),
                node("neg", unary(UnaryOp::Neg), &["a"], &["b"]),
                node("drop", Op::Dropout, &["b"], &["c"]),
                node("abs", unary(UnaryOp::Abs), &["c"], &["d"]),
                node("id1", Op::Identity, &["d"], &["y"]),
            ],
            ..Graph::default()
        }
    }

    #[test]
    fn copies_are_removed_and_outputs_kept() {
        let before = chain();
        let mut after = before.clone();
        assert_eq!(remove_identities(&mut after).unwrap(), 3);
        after.validate().unwrap();
        let ops: Vec<&str> = after.nodes.iter().map(|n| n.op.name()).collect();
        assert_eq!(ops, ["Neg", "Abs"]);
        assert_eq!(after.nodes[0].inputs, [Some("x".to_string())]);
        assert_eq!(after.nodes[1].outputs, ["y"]);
        // Identity and Neg are exact, so the outputs must match bit for bit.
        assert_same_outputs(&before, &after, &random_inputs(&before, 1), 0.0);
    }

    #[test]
    fn an_identity_of_a_graph_input_that_is_an_output_stays() {
        let mut graph = Graph {
            inputs: vec![f32_input("x", &[4])],
            outputs: vec![f32_input("y", &[4])],
            nodes: vec![node("id", Op::Identity, &["x"], &["y"])],
            ..Graph::default()
        };
        assert_eq!(remove_identities(&mut graph).unwrap(), 0);
        assert_eq!(graph.nodes.len(), 1);
    }

    #[test]
    fn a_dropout_with_a_used_mask_stays() {
        let mut graph = Graph {
            inputs: vec![f32_input("x", &[4])],
            outputs: vec![f32_input("y", &[4]), f32_input("mask", &[4])],
            nodes: vec![node("drop", Op::Dropout, &["x"], &["y", "mask"])],
            ..Graph::default()
        };
        assert_eq!(remove_identities(&mut graph).unwrap(), 0);
    }
}
