//! Integer ops exported as QDQ: the lowered chain of `passes::qdq::tests` (two QLinearConv, one
//! with per-channel weights, an int32 bias and a fused Relu) goes out as standard
//! DequantizeLinear → Conv → [Relu] → QuantizeLinear, which computes bit for bit what the graph
//! computed before it was lowered, and lowers back to the same integer graph.

use super::to_onnx_bytes;
use crate::graph::passes::qdq_test_chain;
use crate::graph::passes::testing::{assert_same_outputs, random_inputs};
use crate::graph::passes::{eliminate_dead_nodes, lower_qdq};
use crate::graph::{Graph, Op};
use crate::import::onnx::parse_onnx;
use crate::import::onnx::proto::ModelProto;
use prost::Message;

fn lowered_chain() -> Graph {
    let mut graph = qdq_test_chain();
    assert_eq!(lower_qdq(&mut graph).unwrap(), 2);
    eliminate_dead_nodes(&mut graph).unwrap();
    graph
}

#[test]
fn qlinear_convs_are_written_as_standard_qdq_nodes() {
    let bytes = to_onnx_bytes(&lowered_chain()).unwrap();
    let model = ModelProto::decode(bytes.as_slice()).unwrap();
    let graph = model.graph.unwrap();
    let op_types: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
    let dq = "DequantizeLinear";
    let conv1 = [dq, dq, dq, "Conv", "Relu", "QuantizeLinear"];
    let conv2 = [dq, dq, "Conv", "QuantizeLinear"];
    let want: Vec<&str> = ["QuantizeLinear"]
        .iter()
        .chain(&conv1)
        .chain(&conv2)
        .copied()
        .collect();
    assert_eq!(op_types, want);
    let per_axis = |index: usize| graph.node[index].attribute.iter().any(|a| a.name == "axis");
    assert!(
        per_axis(2) && per_axis(3),
        "per-channel weight and bias dequantize along axis 0"
    );
    assert!(
        !per_axis(8),
        "a per-tensor weight dequantizes without an axis"
    );
}

#[test]
fn the_export_computes_what_the_graph_computed_before_lowering() {
    let exported = parse_onnx(&to_onnx_bytes(&lowered_chain()).unwrap(), None).unwrap();
    let unlowered = qdq_test_chain();
    let inputs = random_inputs(&unlowered, 13);
    // The same f32 operations on the same f32 values (the bias scale is the same product
    // `x_scale · w_scale[m]` the chain's bias DequantizeLinear holds), so no difference at all.
    assert_same_outputs(&unlowered, &exported, &inputs, 0.0);
}

#[test]
fn the_export_lowers_back_to_the_same_integer_graph() {
    let lowered = lowered_chain();
    let mut relowered = parse_onnx(&to_onnx_bytes(&lowered).unwrap(), None).unwrap();
    assert_eq!(lower_qdq(&mut relowered).unwrap(), 2);
    eliminate_dead_nodes(&mut relowered).unwrap();
    let ops = |graph: &Graph| -> Vec<Op> { graph.nodes.iter().map(|n| n.op.clone()).collect() };
    assert_eq!(ops(&relowered), ops(&lowered));
    let inputs = random_inputs(&lowered, 14);
    assert_same_outputs(&lowered, &relowered, &inputs, 0.0);
}
