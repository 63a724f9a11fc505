//! Graph optimisation passes: each rewrites a [`crate::graph::Graph`] and keeps its outputs equal.
//!
//! Every pass is public on its own and returns how many rewrites it made; [`optimize`] runs them
//! all in an order where each one enables the next (Identity nodes between a conv and its
//! BatchNormalization go first, constant shape subgraphs are folded before patterns are matched,
//! dead nodes go last) and validates the result.

mod batchnorm;
mod dead;
mod fold;
mod fuse;
mod identity;
mod qdq;
#[cfg(test)]
pub(crate) mod testing;

pub use batchnorm::fold_batchnorm;
pub use dead::eliminate_dead_nodes;
pub use fold::{fold_constants, MAX_FOLDED_BYTES};
pub use fuse::fuse_activations;
pub use identity::remove_identities;
/// The two-conv QDQ chain the lowering's tests use, for the export tests.
#[cfg(test)]
pub(crate) use qdq::tests::chain as qdq_test_chain;
pub use qdq::{
    arithmetic_table, border_conversions, lower_qdq, lower_qdq_report, node_arithmetic, Arithmetic,
    NodeArithmetic, QdqLowering,
};

use crate::error::Result;
use crate::graph::Graph;
use crate::tensor::HostTensor;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// How many rewrites each pass of [`optimize`] made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Identity and Dropout nodes removed.
    pub identities_removed: usize,
    /// Nodes between DequantizeLinear and QuantizeLinear lowered to integer ops (Conv to
    /// QLinearConv, MaxPool to an int8/uint8 MaxPool).
    pub qdq_nodes_lowered: usize,
    /// Nodes evaluated at load time and replaced by initializers.
    pub constants_folded: usize,
    /// BatchNormalization nodes folded into the Conv before them.
    pub batchnorms_folded: usize,
    /// Activation nodes (and Sigmoid·Mul pairs) fused into the Conv, MatMul or Gemm before them.
    pub activations_fused: usize,
    /// Nodes removed because nothing used their outputs.
    pub dead_nodes_removed: usize,
}

impl fmt::Display for PassReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} identities removed, {} QDQ nodes lowered, {} constants folded, {} batchnorms \
             folded, {} activations fused, {} dead nodes removed",
            self.identities_removed,
            self.qdq_nodes_lowered,
            self.constants_folded,
            self.batchnorms_folded,
            self.activations_fused,
            self.dead_nodes_removed
        )
    }
}

/// Runs every pass on `graph`, whose inputs have `input_shapes` (constant folding specialises the
/// graph to them: `Shape` nodes become initializers), then checks the result with
/// [`Graph::validate`].
///
/// ```
/// use kiln::graph::{passes::optimize, Graph, Node, Op, ValueInfo, Dim};
/// use kiln::tensor::DType;
/// let value = |name: &str| ValueInfo {
///     name: name.into(),
///     dtype: Some(DType::F32),
///     shape: Some(vec![Dim::Fixed(4)]),
/// };
/// let mut graph = Graph {
///     inputs: vec![value("x")],
///     outputs: vec![value("y")],
///     nodes: vec![
///         Node { name: "id".into(), op: Op::Identity, inputs: vec![Some("x".into())], outputs: vec!["t".into()] },
///         Node { name: "neg".into(), op: Op::Unary(kiln::ops::elementwise::UnaryOp::Neg), inputs: vec![Some("t".into())], outputs: vec!["y".into()] },
///     ],
///     ..Graph::default()
/// };
/// let report = optimize(&mut graph, &[])?;
/// assert_eq!(report.identities_removed, 1);
/// assert_eq!(graph.nodes.len(), 1);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn optimize(graph: &mut Graph, input_shapes: &[(String, Vec<usize>)]) -> Result<PassReport> {
    optimize_with(graph, input_shapes, &PassOptions::default()).map(|(report, _)| report)
}

/// Which optional passes [`optimize_with`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PassOptions {
    /// Lower QDQ patterns to integer ops ([`lower_qdq`]); when false every QuantizeLinear and
    /// DequantizeLinear runs as a float op (the float path `kiln bench model` compares against).
    pub lower_qdq: bool,
}

impl Default for PassOptions {
    fn default() -> Self {
        PassOptions { lower_qdq: true }
    }
}

/// [`optimize`] with `options`, also returning what the QDQ lowering did (empty when it is off).
pub fn optimize_with(
    graph: &mut Graph,
    input_shapes: &[(String, Vec<usize>)],
    options: &PassOptions,
) -> Result<(PassReport, QdqLowering)> {
    graph.validate()?;
    let identities_removed = remove_identities(graph)?;
    // Before constant folding, which would turn a weight's DequantizeLinear into a float weight.
    let qdq = match options.lower_qdq {
        true => lower_qdq_report(graph)?,
        false => QdqLowering::default(),
    };
    let qdq_nodes_lowered = qdq.lowered.len();
    let mut dead_nodes_removed = eliminate_dead_nodes(graph)?;
    let constants_folded = fold_constants(graph, input_shapes)?;
    let batchnorms_folded = fold_batchnorm(graph)?;
    let activations_fused = fuse_activations(graph)?;
    dead_nodes_removed += eliminate_dead_nodes(graph)?;
    graph.validate()?;
    let report = PassReport {
        identities_removed,
        qdq_nodes_lowered,
        constants_folded,
        batchnorms_folded,
        activations_fused,
        dead_nodes_removed,
    };
    Ok((report, qdq))
}

/// Each value's producer and read count and the graph's outputs, built once per sweep so that a
/// pass over n nodes costs O(n): [`Graph::producer`] and [`Graph::use_count`] scan every node, and
/// calling them per node made planning a 100k-node chain take minutes.
struct ValueIndex {
    producers: HashMap<String, usize>,
    uses: HashMap<String, usize>,
    graph_outputs: HashSet<String>,
}

impl ValueIndex {
    fn new(graph: &Graph) -> Self {
        let mut uses = HashMap::new();
        let reads = graph
            .nodes
            .iter()
            .flat_map(|node| node.inputs.iter().flatten());
        for name in reads.chain(graph.outputs.iter().map(|output| &output.name)) {
            *uses.entry(name.clone()).or_insert(0) += 1;
        }
        let producers = (graph.nodes.iter().enumerate())
            .flat_map(|(index, node)| node.outputs.iter().map(move |name| (name.clone(), index)))
            .collect();
        ValueIndex {
            producers,
            uses,
            graph_outputs: graph.outputs.iter().map(|o| o.name.clone()).collect(),
        }
    }

    /// The index of the node producing `value`.
    fn producer(&self, value: &str) -> Option<usize> {
        self.producers.get(value).copied()
    }

    /// How many node inputs and graph outputs read `value` (as [`Graph::use_count`]).
    fn uses(&self, value: &str) -> usize {
        self.uses.get(value).copied().unwrap_or(0)
    }

    /// Whether `value` is one of the graph's outputs.
    fn is_graph_output(&self, value: &str) -> bool {
        self.graph_outputs.contains(value)
    }

    /// Records that the node producing `from` now produces `to` instead.
    fn rename_output(&mut self, from: &str, to: &str) {
        if let Some(producer) = self.producers.remove(from) {
            self.producers.insert(to.to_string(), producer);
        }
    }
}

/// Removes the nodes whose flag in `removed` is set, keeping the others' order, in one pass.
fn remove_flagged(graph: &mut Graph, removed: &[bool]) {
    let mut flags = removed.iter();
    graph
        .nodes
        .retain(|_| !flags.next().copied().unwrap_or(false));
}

/// The initializer named by a node input, if that input is present and an initializer.
fn initializer<'g>(graph: &'g Graph, name: Option<&str>) -> Option<&'g HostTensor> {
    name.and_then(|name| graph.initializers.get(name))
}

/// A value name starting with `base` that nothing in `graph` defines yet.
fn unique_name(graph: &Graph, base: &str) -> String {
    let taken = |name: &str| {
        graph.initializers.contains_key(name)
            || graph.inputs.iter().any(|input| input.name == name)
            || graph
                .nodes
                .iter()
                .any(|node| node.outputs.iter().any(|o| o == name))
    };
    let mut name = base.to_string();
    let mut suffix = 1;
    while taken(&name) {
        name = format!("{base}_{suffix}");
        suffix += 1;
    }
    name
}

/// Removes the initializers that no node and no graph output reads; returns how many.
fn drop_unused_initializers(graph: &mut Graph) -> usize {
    let used: std::collections::HashSet<String> = graph
        .nodes
        .iter()
        .flat_map(|node| node.inputs.iter().flatten().cloned())
        .chain(graph.outputs.iter().map(|output| output.name.clone()))
        .collect();
    let before = graph.initializers.len();
    graph.initializers.retain(|name, _| used.contains(name));
    before - graph.initializers.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::SeededRng;
    use crate::graph::passes::testing::{
        activation, assert_same_outputs, conv3x3, f32_input, fused_tolerance, node, output,
        random_inputs, random_tensor, unary, z_bound,
    };
    use crate::graph::Op;
    use crate::ops::elementwise::{BinaryOp, UnaryOp};
    use crate::ops::{Activation, PointwiseActivation};

    /// A YOLO-style block: Identity → Conv → BatchNormalization → x·Sigmoid(x) → flattened by a
    /// Shape subgraph → Dropout → y, plus a dead Neg.
    fn yolo_block() -> Graph {
        let mut rng = SeededRng::new(60);
        let bn = Op::BatchNormalization { epsilon: 0.0 };
        let mut graph = Graph {
            inputs: vec![f32_input("x", &[1, 2, 6, 6])],
            outputs: vec![output("y")],
            nodes: vec![
                node("id", Op::Identity, &["x"], &["x1"]),
                node("conv", Op::Conv(conv3x3()), &["x1", "w", "b"], &["c"]),
                node("bn", bn, &["c", "gamma", "beta", "mean", "var"], &["n"]),
                node(
                    "sigmoid",
                    activation(PointwiseActivation::Sigmoid),
                    &["n"],
                    &["s"],
                ),
                node("mul", Op::Binary(BinaryOp::Mul), &["n", "s"], &["a"]),
                node(
                    "shape",
                    Op::Shape {
                        start: 0,
                        end: None,
                    },
                    &["a"],
                    &["dims"],
                ),
                node(
                    "gather",
                    Op::Gather { axis: 0 },
                    &["dims", "zero"],
                    &["batch"],
                ),
                node("unsqueeze", Op::Unsqueeze, &["batch", "axes"], &["batch1"]),
                node(
                    "concat",
                    Op::Concat { axis: 0 },
                    &["batch1", "minus_one"],
                    &["target"],
                ),
                node(
                    "reshape",
                    Op::Reshape { allowzero: false },
                    &["a", "target"],
                    &["flat"],
                ),
                node("dropout", Op::Dropout, &["flat"], &["y"]),
                node("dead", unary(UnaryOp::Neg), &["x"], &["unused"]),
            ],
            ..Graph::default()
        };
        let int = |shape: &[usize], value: i64| HostTensor::from_i64(shape, vec![value]).unwrap();
        let channels = |value: f32| HostTensor::from_f32(&[3], vec![value; 3]).unwrap();
        // An identity BatchNormalization (γ = 1, β = 0, μ = 0, σ² = 1, ε = 0) folds exactly, so
        // only the SiLU fusion can change rounding here; fold_batchnorm's own test covers the rest.
        let tensors = [
            ("w", random_tensor(&mut rng, &[3, 2, 3, 3], -0.5, 0.5)),
            ("b", random_tensor(&mut rng, &[3], -0.5, 0.5)),
            ("gamma", channels(1.0)),
            ("beta", channels(0.0)),
            ("mean", channels(0.0)),
            ("var", channels(1.0)),
            ("zero", int(&[], 0)),
            ("axes", int(&[1], 0)),
            ("minus_one", int(&[1], -1)),
        ];
        graph
            .initializers
            .extend(tensors.into_iter().map(|(name, t)| (name.to_string(), t)));
        graph
    }

    #[test]
    fn optimize_runs_every_pass_and_keeps_the_outputs() {
        let before = yolo_block();
        let mut after = before.clone();
        let report = optimize(&mut after, &[]).unwrap();
        let expected = PassReport {
            identities_removed: 2,
            qdq_nodes_lowered: 0,
            constants_folded: 4,
            batchnorms_folded: 1,
            activations_fused: 1,
            dead_nodes_removed: 1,
        };
        assert_eq!(report, expected);
        assert_eq!(
            report.to_string(),
            "2 identities removed, 0 QDQ nodes lowered, 4 constants folded, 1 batchnorms \
             folded, 1 activations fused, 1 dead nodes removed"
        );
        let ops: Vec<&str> = after.nodes.iter().map(|n| n.op.name()).collect();
        assert_eq!(ops, ["Conv", "Reshape"]);
        assert!(matches!(&after.nodes[0].op, Op::Conv(a) if a.activation == Activation::Silu));
        assert_eq!(after.nodes[1].outputs, ["y"]);
        let tolerance = fused_tolerance(z_bound(2 * 9, 0.5, 0.5));
        assert_same_outputs(&before, &after, &random_inputs(&before, 61), tolerance);
    }
}
