//! The layers agree with the op registry ([`crate::graph::registry`]): every registered ONNX op
//! type imports into its family, every op the exporter writes is registered under the node's
//! family (SiLU and fused activations expand into registered ops), and the GPU's list of ops
//! without a kernel names registered op types, leaving every family some kernel.

use super::export::sample_graph::many_ops;
use super::export::to_onnx_bytes;
use super::proto::ModelProto;
use super::testing::{int, model, node, parse};
use crate::graph::registry::{onnx_op, Family};
use crate::runtime::gpu::NO_GPU_KERNEL;
use prost::Message;
use std::collections::HashSet;

/// Imports a one-node model of `op_type` with 1, 2 or 3 copies of `x` as inputs; returns the
/// family of the first that imports, after checking that no attempt failed for want of the op.
fn imported_family(op_type: &str, since_opset: i64) -> Option<Family> {
    let attributes = || match op_type {
        "Cast" => vec![int("to", 1)],
        _ => vec![],
    };
    let opset = since_opset.max(13);
    let mut family = None;
    for arity in 1..=3 {
        let inputs = vec!["x"; arity];
        let proto = model(
            opset,
            vec![node(op_type, &inputs, &["y"], attributes())],
            vec![],
            &["y"],
        );
        match parse(&proto) {
            Ok(graph) => {
                family = family.or(Some(graph.nodes[0].op.family()));
            }
            Err(error) => {
                let message = error.to_string();
                assert!(
                    !message.contains("not in kiln's op set"),
                    "{op_type}: {message}"
                );
            }
        }
    }
    family
}

#[test]
fn every_registered_op_type_imports_into_its_family() {
    let mut imported = 0;
    for family in Family::ALL {
        for entry in family.spec().onnx {
            if let Some(got) = imported_family(entry.op_type, entry.since_opset) {
                assert_eq!(got, family, "{}", entry.op_type);
                imported += 1;
            }
        }
    }
    // Ops whose required attributes or constant inputs a bare node lacks (Conv's weight rank,
    // Reshape's shape, ...) fail on those, never on the op type; most import bare.
    let registered = Family::ALL
        .iter()
        .map(|f| f.spec().onnx.len())
        .sum::<usize>();
    assert!(
        imported * 4 >= registered * 3,
        "{imported} of {registered} imported"
    );
}

#[test]
fn exported_op_types_are_registered_under_the_nodes_family() {
    let graph = many_ops();
    let families: HashSet<Family> = graph.nodes.iter().map(|n| n.op.family()).collect();
    let missing: Vec<_> = Family::ALL
        .iter()
        .filter(|f| !families.contains(f) && !f.made_by_passes())
        .collect();
    assert!(missing.is_empty(), "the sample graph lacks {missing:?}");
    for node in &graph.nodes {
        let written = onnx_op(node.op.name()).map(|(family, _)| family);
        assert_eq!(written, Some(node.op.family()), "{}", node.name);
    }
    let model = ModelProto::decode(&to_onnx_bytes(&graph).unwrap()[..]).unwrap();
    for proto in model.graph.unwrap().node {
        assert!(onnx_op(&proto.op_type).is_some(), "wrote {}", proto.op_type);
    }
}

#[test]
fn ops_without_a_gpu_kernel_are_registered_and_leave_each_family_a_kernel() {
    for op_type in NO_GPU_KERNEL {
        assert!(onnx_op(op_type).is_some(), "{op_type}");
    }
    for family in Family::ALL.into_iter().filter(|f| !f.made_by_passes()) {
        let with_kernel = family.spec().onnx.iter();
        let count = with_kernel
            .filter(|op| !NO_GPU_KERNEL.contains(&op.op_type))
            .count();
        assert!(count > 0, "{family:?} has no GPU kernel at all");
    }
}
