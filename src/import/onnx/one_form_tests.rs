//! The IR has one spelling per meaning: an imported Clip is always `Op::Clip` and an imported
//! Identity always `Op::Identity` (`Op::Unary` holds a `PointwiseActivation`, which has neither);
//! the passes turn a Clip with constant bounds after a Conv into the Conv's `Activation::Clip`
//! and leave a Clip with run-time bounds standalone.

use super::testing::{f32_tensor, float, model, node, parse};
use crate::graph::passes::optimize;
use crate::graph::{Graph, Op};
use crate::ops::Activation;

fn ops(graph: &Graph) -> Vec<&Op> {
    graph.nodes.iter().map(|node| &node.op).collect()
}

#[test]
fn clip_imports_as_op_clip_at_every_opset() {
    let bounds = vec![float("min", 0.0), float("max", 6.0)];
    let legacy = model(
        6,
        vec![node("Clip", &["x"], &["y"], bounds)],
        vec![],
        &["y"],
    );
    let scalar = |name: &str, value| f32_tensor(name, &[], vec![value]);
    let with_inputs = model(
        13,
        vec![node("Clip", &["x", "low", "high"], &["y"], vec![])],
        vec![scalar("low", 0.0), scalar("high", 6.0)],
        &["y"],
    );
    let unbounded = model(
        13,
        vec![node("Clip", &["x"], &["y"], vec![])],
        vec![],
        &["y"],
    );
    for (label, proto) in [
        ("opset 6", legacy),
        ("opset 13", with_inputs),
        ("no bounds", unbounded),
    ] {
        let graph = parse(&proto).unwrap();
        assert_eq!(ops(&graph), [&Op::Clip], "{label}");
    }
}

#[test]
fn identity_imports_as_op_identity() {
    let proto = model(
        13,
        vec![node("Identity", &["x"], &["y"], vec![])],
        vec![],
        &["y"],
    );
    assert_eq!(ops(&parse(&proto).unwrap()), [&Op::Identity]);
}

/// x → Conv(w) → c → Clip(c, `bounds`) → y, with `extra` nodes first.
fn conv_then_clip(extra: Vec<super::proto::NodeProto>, bounds: [&str; 2]) -> Graph {
    let weight = f32_tensor("w", &[2, 3, 1, 1], (0..6).map(|v| v as f32 / 6.0).collect());
    let scalar = |name: &str, value| f32_tensor(name, &[], vec![value]);
    let mut nodes = extra;
    nodes.push(node("Conv", &["x", "w"], &["c"], vec![]));
    nodes.push(node("Clip", &["c", bounds[0], bounds[1]], &["y"], vec![]));
    let initializers = vec![weight, scalar("low", -0.5), scalar("high", 1.5)];
    let mut graph = parse(&model(13, nodes, initializers, &["y"])).unwrap();
    optimize(&mut graph, &[("x".into(), vec![1, 3, 8, 8])]).unwrap();
    graph
}

#[test]
fn constant_clip_fuses_into_the_conv_and_run_time_bounds_stay_standalone() {
    let fused = conv_then_clip(vec![], ["low", "high"]);
    let clip = Activation::Clip {
        min: -0.5,
        max: 1.5,
    };
    match ops(&fused)[..] {
        [Op::Conv(attrs)] => assert_eq!(attrs.activation, clip),
        ref other => panic!("want one Conv with a fused Clip, got {other:?}"),
    }
    // The upper bound is computed from x at run time, so it is no constant to fuse.
    let max_of_x = node(
        "ReduceMax",
        &["x"],
        &["top"],
        vec![super::testing::int("keepdims", 0)],
    );
    let standalone = conv_then_clip(vec![max_of_x], ["low", "top"]);
    let names: Vec<&str> = standalone.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(names, ["ReduceMax", "Conv", "Clip"]);
    match &standalone.nodes[1].op {
        Op::Conv(attrs) => assert_eq!(attrs.activation, Activation::Identity),
        other => panic!("want a Conv, got {other:?}"),
    }
}
