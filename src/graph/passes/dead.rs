//! Dead-node elimination: nodes whose outputs reach no graph output are removed.

use super::drop_unused_initializers;
use crate::error::Result;
use crate::graph::Graph;
use std::collections::HashSet;

/// Removes every node none of whose outputs is read, directly or through other nodes, by a
/// graph output; then drops the initializers nothing reads. Returns the nodes removed.
pub fn eliminate_dead_nodes(graph: &mut Graph) -> Result<usize> {
    let mut live: HashSet<String> = graph.outputs.iter().map(|o| o.name.clone()).collect();
    let mut keep = vec![false; graph.nodes.len()];
    for (index, node) in graph.nodes.iter().enumerate().rev() {
        if node.outputs.iter().any(|output| live.contains(output)) {
            keep[index] = true;
            live.extend(node.inputs.iter().flatten().cloned());
        }
    }
    let before = graph.nodes.len();
    let mut flags = keep.into_iter();
    graph.nodes.retain(|_| flags.next().unwrap_or(true));
    drop_unused_initializers(graph);
    Ok(before - graph.nodes.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::passes::testing::{
        assert_same_outputs, f32_input, node, random_inputs, unary,
    };
    use crate::graph::Op;
    use crate::ops::elementwise::{BinaryOp, UnaryOp};
    use crate::tensor::HostTensor;

    #[test]
    fn unused_branches_and_their_weights_go() {
        let mut before = Graph {
            inputs: vec![f32_input("x", &[3])],
            outputs: vec![f32_input("y", &[3])],
            nodes: vec![
                node("neg", unary(UnaryOp::Neg), &["x"], &["n"]),
                node("unused_add", Op::Binary(BinaryOp::Add), &["n", "w"], &["u"]),
                node("unused_abs", unary(UnaryOp::Abs), &["u"], &["v"]),
                node("exp", unary(UnaryOp::Exp), &["n"], &["y"]),
            ],
            ..Graph::default()
        };
        let weight = HostTensor::from_f32(&[3], vec![1.0, 2.0, 3.0]).unwrap();
        before.initializers.insert("w".into(), weight);
        let mut after = before.clone();
        assert_eq!(eliminate_dead_nodes(&mut after).unwrap(), 2);
        after.validate().unwrap();
        let names: Vec<&str> = after.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["neg", "exp"]);
        assert!(after.initializers.is_empty());
        // The surviving nodes are the same computation: equal bit for bit.
        assert_same_outputs(&before, &after, &random_inputs(&before, 2), 0.0);
    }
}
