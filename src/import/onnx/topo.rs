//! Topological ordering of converted nodes. ONNX files are supposed to list nodes producers
//! first, but nothing enforces it, so the importer sorts them itself (stable: a sorted file keeps
//! its order) and reports cycles, values produced twice, and inputs nothing produces.

use crate::error::{Error, Result};
use crate::graph::Node;
use std::collections::{BTreeSet, HashMap, HashSet};

/// `nodes` in an order where every input is produced before it is read; `available` holds the
/// graph inputs and initializers.
pub(crate) fn sort_nodes(nodes: Vec<Node>, available: &HashSet<String>) -> Result<Vec<Node>> {
    let mut producers: HashMap<&str, usize> = HashMap::new();
    for (index, node) in nodes.iter().enumerate() {
        for output in &node.outputs {
            if available.contains(output) || producers.insert(output, index).is_some() {
                return Err(invalid(
                    node,
                    format!("output '{output}' is already defined elsewhere in the model"),
                ));
            }
        }
    }
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut pending_inputs = vec![0usize; nodes.len()];
    for (index, node) in nodes.iter().enumerate() {
        for input in node.inputs.iter().flatten() {
            match producers.get(input.as_str()) {
                Some(&producer) => {
                    consumers[producer].push(index);
                    pending_inputs[index] += 1;
                }
                None if available.contains(input) => {}
                None => {
                    return Err(invalid(
                        node,
                        format!(
                            "input '{input}' is produced by no node, graph input or initializer"
                        ),
                    ))
                }
            }
        }
    }
    let mut ready: BTreeSet<usize> = (0..nodes.len())
        .filter(|&index| pending_inputs[index] == 0)
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(index) = ready.pop_first() {
        order.push(index);
        for &consumer in &consumers[index] {
            pending_inputs[consumer] -= 1;
            if pending_inputs[consumer] == 0 {
                ready.insert(consumer);
            }
        }
    }
    if let Some(stuck) = (0..nodes.len()).find(|&index| pending_inputs[index] > 0) {
        return Err(invalid(
            &nodes[stuck],
            "is part of a cycle: its inputs depend on its own outputs".into(),
        ));
    }
    let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    Ok(order
        .into_iter()
        .filter_map(|index| slots[index].take())
        .collect())
}

fn invalid(node: &Node, detail: String) -> Error {
    Error::InvalidModel {
        location: node.location(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Op;

    fn identity(name: &str, input: &str, output: &str) -> Node {
        Node {
            name: name.into(),
            op: Op::Identity,
            inputs: vec![Some(input.into())],
            outputs: vec![output.into()],
        }
    }

    fn names(nodes: &[Node]) -> Vec<&str> {
        nodes.iter().map(|node| node.name.as_str()).collect()
    }

    #[test]
    fn reversed_chains_are_sorted_and_sorted_ones_kept() {
        let available = HashSet::from(["x".to_string()]);
        let reversed = vec![
            identity("c", "b", "c"),
            identity("b", "a", "b"),
            identity("a", "x", "a"),
        ];
        assert_eq!(
            names(&sort_nodes(reversed, &available).unwrap()),
            ["a", "b", "c"]
        );
        let independent = vec![identity("p", "x", "p"), identity("q", "x", "q")];
        assert_eq!(
            names(&sort_nodes(independent, &available).unwrap()),
            ["p", "q"]
        );
    }

    #[test]
    fn cycles_missing_inputs_and_double_producers_name_the_node() {
        let available = HashSet::from(["x".to_string()]);
        let cycle = vec![identity("a", "b", "a"), identity("b", "a", "b")];
        let error = sort_nodes(cycle, &available).unwrap_err().to_string();
        assert!(
            error.contains("node 'a'") && error.contains("cycle"),
            "{error}"
        );
        let missing = vec![identity("a", "nowhere", "a")];
        assert!(sort_nodes(missing, &available)
            .unwrap_err()
            .to_string()
            .contains("'nowhere'"));
        let twice = vec![identity("a", "x", "y"), identity("b", "x", "y")];
        assert!(sort_nodes(twice, &available)
            .unwrap_err()
            .to_string()
            .contains("node 'b'"));
        let shadowing = vec![identity("a", "x", "x")];
        assert!(sort_nodes(shadowing, &available).is_err());
    }
}
