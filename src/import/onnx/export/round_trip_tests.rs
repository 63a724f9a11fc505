//! Export tests: a graph covering most ops survives graph → ONNX bytes → graph unchanged, and
//! the forms with no one-node ONNX equivalent (fused activations, SiLU, 2-D Softmax) expand
//! into the documented node sequences.

use super::sample_graph::{conv_attrs, many_ops, MATMUL_NODE, SOFTMAX_NODE};
use super::{save_onnx, to_onnx_bytes};
use crate::graph::{AutoPad, Op};
use crate::import::onnx::proto::ModelProto;
use crate::import::onnx::testing::{ints, model, node, parse, TempDir};
use crate::import::onnx::{load_onnx, parse_onnx};
use crate::ops::elementwise::UnaryOp;
use crate::ops::layout::PadMode;
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::HostTensor;
use prost::Message;

fn decode(bytes: &[u8]) -> ModelProto {
    ModelProto::decode(bytes).unwrap()
}

#[test]
fn a_graph_of_many_ops_round_trips_unchanged() {
    let graph = many_ops();
    graph.validate().unwrap();
    let bytes = to_onnx_bytes(&graph).unwrap();
    let model = decode(&bytes);
    assert_eq!(
        (model.ir_version, model.opset_import[0].version),
        (8, 18),
        "ReduceMean's axes input needs 18"
    );
    let reparsed = parse_onnx(&bytes, None).unwrap();
    assert_eq!(reparsed, graph);
}

#[test]
fn files_round_trip_through_save_and_load() {
    let dir = TempDir::new("export-save");
    let path = dir.0.join("model.onnx");
    save_onnx(&many_ops(), &path).unwrap();
    assert_eq!(load_onnx(&path).unwrap(), many_ops());
}

#[test]
fn fused_activations_become_following_nodes() {
    let mut graph = many_ops();
    graph.nodes[0].op = Op::Conv(conv_attrs(Activation::Clip { min: 0.0, max: 6.0 }));
    graph.nodes[MATMUL_NODE].op = Op::MatMul {
        activation: Activation::Silu,
    };
    let model = decode(&to_onnx_bytes(&graph).unwrap());
    let op_types: Vec<&str> = model
        .graph
        .as_ref()
        .unwrap()
        .node
        .iter()
        .map(|node| node.op_type.as_str())
        .collect();
    assert_eq!(op_types[..2], ["Conv", "Clip"]);
    let matmul = op_types.iter().position(|op| *op == "MatMul").unwrap();
    assert_eq!(op_types[matmul..matmul + 3], ["MatMul", "Sigmoid", "Mul"]);
    let reparsed = parse_onnx(&to_onnx_bytes(&graph).unwrap(), None).unwrap();
    let clip = reparsed.producer("c").unwrap().1;
    assert_eq!(
        (clip.op.clone(), clip.input(0)),
        (Op::Clip, Some("c::preactivation"))
    );
    assert_eq!(
        reparsed.initializers["conv::activation::max"].to_f64_vec(),
        vec![6.0]
    );
}

#[test]
fn coerced_softmax_is_written_through_flatten_and_reshape() {
    let mut graph = many_ops();
    graph.nodes[SOFTMAX_NODE].op = Op::Softmax {
        axis: 1,
        coerce_2d: true,
    };
    let model = decode(&to_onnx_bytes(&graph).unwrap());
    let nodes = &model.graph.as_ref().unwrap().node;
    let start = nodes
        .iter()
        .position(|node| node.op_type == "Shape")
        .unwrap();
    let op_types: Vec<&str> = nodes[start..start + 4]
        .iter()
        .map(|node| node.op_type.as_str())
        .collect();
    assert_eq!(op_types, ["Shape", "Flatten", "Softmax", "Reshape"]);
    assert!(parse_onnx(&to_onnx_bytes(&graph).unwrap(), None).is_ok());
}

#[test]
fn the_written_opset_is_17_unless_an_op_needs_a_later_one() {
    let gelu = Op::Unary(UnaryOp::Activation(PointwiseActivation::Gelu));
    let wrap = Op::Pad {
        mode: PadMode::Wrap,
    };
    let uneven_split = Op::Split {
        axis: 0,
        num_outputs: Some(1),
    };
    let cases = [
        (
            Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu)),
            vec!["x"],
            17,
            8,
        ),
        (uneven_split, vec!["x"], 18, 8),
        (wrap, vec!["x", "pads"], 19, 9),
        (gelu, vec!["x"], 20, 9),
    ];
    for (op, inputs, opset, ir_version) in cases {
        let relu = node("Relu", &["x"], &["y"], vec![]);
        let mut graph = parse(&model(13, vec![relu], vec![], &["y"])).unwrap();
        let pads = HostTensor::from_i64(&[8], vec![0; 8]).unwrap();
        graph.initializers.insert("pads".into(), pads);
        graph.nodes[0].op = op.clone();
        graph.nodes[0].inputs = inputs.iter().map(|name| Some(name.to_string())).collect();
        let bytes = to_onnx_bytes(&graph).unwrap();
        let model = decode(&bytes);
        let written = (model.opset_import[0].version, model.ir_version);
        assert_eq!(written, (opset, ir_version), "{op:?}");
        assert_eq!(parse_onnx(&bytes, None).unwrap().nodes[0].op, op);
    }
}

#[test]
fn auto_pad_is_written_without_pads() {
    let mut graph = many_ops();
    let Op::Conv(conv) = &mut graph.nodes[0].op else {
        panic!("{:?}", graph.nodes[0].op)
    };
    conv.auto_pad = AutoPad::SameLower;
    conv.pads = vec![0; 4];
    let model = decode(&to_onnx_bytes(&graph).unwrap());
    let attributes = &model.graph.as_ref().unwrap().node[0].attribute;
    assert!(attributes.iter().all(|attribute| attribute.name != "pads"));
    assert_eq!(
        parse_onnx(&to_onnx_bytes(&graph).unwrap(), None).unwrap(),
        graph
    );
}

#[test]
fn old_opset_imports_export_to_the_same_graph() {
    let old = model(
        7,
        vec![
            node(
                "Slice",
                &["x"],
                &["s"],
                vec![ints("starts", &[0]), ints("ends", &[1])],
            ),
            node("Softmax", &["s"], &["y"], vec![]),
        ],
        vec![],
        &["y"],
    );
    let first = parse(&old).unwrap();
    let second = parse_onnx(&to_onnx_bytes(&first).unwrap(), None).unwrap();
    assert_eq!(first.nodes[0], second.nodes[0]);
    assert_eq!(first.initializers, second.initializers);
}

#[test]
fn a_pad_constant_held_in_the_mode_becomes_an_input() {
    let relu = node("Relu", &["x"], &["y"], vec![]);
    let mut graph = parse(&model(13, vec![relu], vec![], &["y"])).unwrap();
    let pads = HostTensor::from_i64(&[8], vec![1; 8]).unwrap();
    graph.initializers.insert("pads".into(), pads);
    graph.nodes[0].op = Op::Pad {
        mode: PadMode::Constant(2.5),
    };
    graph.nodes[0].inputs = vec![Some("x".into()), Some("pads".into())];
    let reparsed = parse_onnx(&to_onnx_bytes(&graph).unwrap(), None).unwrap();
    let pad = &reparsed.nodes[0];
    assert_eq!(
        pad.op,
        Op::Pad {
            mode: PadMode::Constant(0.0)
        }
    );
    let fill = &reparsed.initializers[pad.input(2).unwrap()];
    assert_eq!(fill.to_f64_vec(), vec![2.5]);
}
