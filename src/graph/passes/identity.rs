//! Removing Identity and (inference-mode) Dropout nodes, which copy their input.

use super::{remove_flagged, ValueIndex};
use crate::error::{Error, Result};
use crate::graph::{Graph, Node, Op};
use std::collections::HashMap;

/// Removes every Identity and Dropout node, rewiring its consumers to its input. When the node's
/// output is a graph output, the producer of its input is renamed to produce that output instead;
/// a node whose input is a graph input, an initializer or another graph output stays (a graph
/// output must keep its name). A Dropout whose mask output is used stays too.
///
/// One pass in node order, linear in the graph's size: renames are collected in a map that each
/// node's inputs are resolved through when it is reached, and once more at the end for nodes
/// that read a value renamed after them.
pub fn remove_identities(graph: &mut Graph) -> Result<usize> {
    let mut index_of = ValueIndex::new(graph);
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut removed = vec![false; graph.nodes.len()];
    for (index, is_removed) in removed.iter_mut().enumerate() {
        resolve_inputs(&mut graph.nodes[index], &mut renamed);
        let Some((input, output)) = removable_copy(&graph.nodes[index], &index_of)? else {
            continue;
        };
        if !index_of.is_graph_output(&output) {
            *is_removed = true;
            renamed.insert(output, input);
            continue;
        }
        if index_of.is_graph_output(&input) {
            continue;
        }
        // A graph input or an initializer has no producer: the output's name can only come from
        // this node.
        let Some(producer) = index_of.producer(&input) else {
            continue;
        };
        *is_removed = true;
        for name in &mut graph.nodes[producer].outputs {
            if *name == input {
                name.clone_from(&output);
            }
        }
        index_of.rename_output(&input, &output);
        renamed.insert(input, output);
    }
    for node in &mut graph.nodes {
        resolve_inputs(node, &mut renamed);
    }
    remove_flagged(graph, &removed);
    Ok(removed.iter().filter(|&&flag| flag).count())
}

/// The (input, output) of `node` when it is an Identity or a Dropout whose mask nothing reads.
fn removable_copy(node: &Node, index_of: &ValueIndex) -> Result<Option<(String, String)>> {
    if !matches!(node.op, Op::Identity | Op::Dropout) {
        return Ok(None);
    }
    let (Some(input), Some(output)) = (node.input(0), node.outputs.first()) else {
        return Err(Error::InvalidModel {
            location: node.location(),
            detail: "needs one input and one output".into(),
        });
    };
    let mask_used = node.outputs[1..].iter().any(|mask| index_of.uses(mask) > 0);
    Ok((!mask_used).then(|| (input.to_string(), output.clone())))
}

/// Points `node`'s inputs at their final names through `renamed` (chains are followed and
/// shortened, so each rename is walked a bounded number of times).
fn resolve_inputs(node: &mut Node, renamed: &mut HashMap<String, String>) {
    for input in node.inputs.iter_mut().flatten() {
        let mut chain = Vec::new();
        let mut current = input.clone();
        while let Some(next) = renamed.get(&current) {
            chain.push(current);
            current = next.clone();
        }
        if chain.len() > 1 {
            for link in chain {
                renamed.insert(link, current.clone());
            }
        }
        *input = current;
    }
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
