//! Planning must be linear in the node count: a 100k-node chain once took minutes to plan
//! because passes looked values up by scanning every node. These tests time [`Plan::new`] on
//! long Identity and Relu chains and fail on quadratic growth; `plan_phases_of_a_long_chain`
//! (ignored, run by hand) prints where the time goes.

use super::schedule::Schedule;
use super::{Backend, Plan};
use crate::graph::infer::infer_types;
use crate::graph::{passes, Dim, Graph, Node, Op, ValueInfo};
use crate::ops::elementwise::UnaryOp;
use crate::ops::PointwiseActivation;
use crate::tensor::DType;
use std::time::Instant;

/// `x → op → v1 → op → … → y` with `length` nodes, x and y f32 [2, 3].
fn chain(length: usize, op: &Op) -> Graph {
    let value = |index: usize| match index {
        0 => "x".to_string(),
        _ if index == length => "y".to_string(),
        _ => format!("v{index}"),
    };
    let info = |name: &str| ValueInfo {
        name: name.into(),
        dtype: Some(DType::F32),
        shape: Some(vec![Dim::Fixed(2), Dim::Fixed(3)]),
    };
    Graph {
        inputs: vec![info("x")],
        outputs: vec![info("y")],
        nodes: (1..=length)
            .map(|index| Node {
                name: format!("n{index}"),
                op: op.clone(),
                inputs: vec![Some(value(index - 1))],
                outputs: vec![value(index)],
            })
            .collect(),
        ..Graph::default()
    }
}

fn relu() -> Op {
    Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu))
}

/// The fastest of `tries` plans of `graph`, in seconds.
fn plan_seconds(graph: &Graph, tries: usize) -> f64 {
    (0..tries)
        .map(|_| {
            let started = Instant::now();
            Plan::new(graph, &[], Backend::Cpu).unwrap();
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Ten times the nodes must cost well under a hundred times the time. Linear planning gives a
/// ratio of 10 to 20 here (hash tables and allocation grow too: 0.025 s → 0.53 s for the Relu
/// chain under the test profile) and quadratic near 100; the bound, 30× the 5k time plus one
/// second, leaves room for a loaded CI machine (the 5k time is the best of three) and still fails
/// the quadratic peak sweep this replaced (14 s of a 100k plan, so about 3.6 s at 50k against a
/// bound near 2 s) and the old Identity removal (minutes at 100k).
#[test]
fn planning_long_chains_is_linear() {
    for op in [Op::Identity, relu()] {
        let small = plan_seconds(&chain(5_000, &op), 3);
        let large = plan_seconds(&chain(50_000, &op), 1);
        eprintln!(
            "{}: 5k nodes {small:.3} s, 50k nodes {large:.3} s",
            op.name()
        );
        assert!(
            large < 30.0 * small + 1.0,
            "{}: 50k nodes took {large:.3} s, 5k took {small:.3} s",
            op.name()
        );
    }
}

/// Prints each planning phase's time on a 100k-node chain (`cargo test --lib plan_phases --
/// --ignored --nocapture`).
#[test]
#[ignore]
fn plan_phases_of_a_long_chain() {
    for op in [Op::Identity, relu()] {
        let original = chain(100_000, &op);
        let mut graph = original.clone();
        let mut lap = Instant::now();
        let mut phase = |name: &str| {
            eprintln!("  {name}: {:.3} s", lap.elapsed().as_secs_f64());
            lap = Instant::now();
        };
        eprintln!("{} chain of 100k nodes:", op.name());
        graph.validate().unwrap();
        phase("validate");
        passes::remove_identities(&mut graph).unwrap();
        phase("remove_identities");
        passes::eliminate_dead_nodes(&mut graph).unwrap();
        phase("eliminate_dead_nodes");
        passes::fold_constants(&mut graph, &[]).unwrap();
        phase("fold_constants");
        passes::fold_batchnorm(&mut graph).unwrap();
        phase("fold_batchnorm");
        passes::fuse_activations(&mut graph).unwrap();
        phase("fuse_activations");
        let types = infer_types(&graph, &[]).unwrap();
        phase("infer_types");
        Schedule::new(&graph, &types).unwrap();
        phase("schedule");
        eprintln!("  Plan::new: {:.3} s", plan_seconds(&original, 1));
    }
}
