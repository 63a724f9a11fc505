//! Opset-6 import tests (the old `broadcast`/`axis`, `is_test` and `consumed_inputs` forms) and
//! the classification of models that import no `ai.onnx` opset.

use super::proto::{ModelProto, OperatorSetIdProto, ValueInfoProto};
use super::testing::{f32_tensor, int, ints, model, node, parse, parse_error};
use crate::error::Error;
use crate::graph::{Graph, Op};
use crate::ops::elementwise::BinaryOp;
use crate::runtime::cpu::run_graph;
use crate::tensor::HostTensor;

/// An opset-6 model computing `y = x <op> b` with the given attributes, `b` an initializer of
/// shape `b_shape` (x is `[batch, 3, 8, 8]`).
fn binary_model(
    op_type: &str,
    b_shape: &[usize],
    attributes: Vec<super::proto::AttributeProto>,
) -> ModelProto {
    let count = b_shape.iter().product();
    let values = (0..count).map(|index| index as f32 + 1.0).collect();
    model(
        6,
        vec![node(op_type, &["x", "b"], &["y"], attributes)],
        vec![f32_tensor("b", b_shape, values)],
        &["y"],
    )
}

fn binary_node(graph: &Graph) -> &crate::graph::Node {
    graph
        .nodes
        .iter()
        .find(|node| matches!(node.op, Op::Binary(_)))
        .expect("a binary node")
}

#[test]
fn opset_6_broadcast_with_axis_reshapes_b_to_numpy_alignment() {
    let graph = parse(&binary_model(
        "Add",
        &[3],
        vec![int("broadcast", 1), int("axis", 1)],
    ))
    .unwrap();
    assert_eq!(graph.nodes.len(), 2);
    let reshape = &graph.nodes[0];
    assert_eq!(reshape.op, Op::Reshape { allowzero: false });
    assert_eq!(reshape.inputs[0].as_deref(), Some("b"));
    let shape_name = reshape.inputs[1].as_deref().unwrap();
    assert_eq!(graph.initializers[shape_name].to_f64_vec(), [0.0, 1.0, 1.0]);
    let add = binary_node(&graph);
    assert_eq!(add.op, Op::Binary(BinaryOp::Add));
    assert_eq!(add.inputs[1].as_deref(), Some(reshape.outputs[0].as_str()));
    let x = HostTensor::from_f32(&[1, 3, 8, 8], vec![0.5; 192]).unwrap();
    let outputs = run_graph(&graph, &[("x".into(), x)]).unwrap();
    let y = outputs[0].1.as_f32().unwrap();
    for channel in 0..3 {
        let expected = 0.5 + channel as f32 + 1.0;
        assert!(y[channel * 64..(channel + 1) * 64]
            .iter()
            .all(|&value| value == expected));
    }
}

#[test]
fn opset_6_broadcast_without_axis_or_ending_at_the_last_axis_is_numpy() {
    for attributes in [
        vec![int("broadcast", 1)],
        vec![int("broadcast", 1), int("axis", 2)],
        vec![],
    ] {
        let b_shape: &[usize] = if attributes.is_empty() {
            &[1, 3, 8, 8]
        } else {
            &[8, 8]
        };
        let graph = parse(&binary_model("Mul", b_shape, attributes)).unwrap();
        assert_eq!(graph.nodes.len(), 1);
        assert_eq!(binary_node(&graph).inputs[1].as_deref(), Some("b"));
    }
}

#[test]
fn opset_6_broadcast_with_axis_needs_both_ranks_and_a_fitting_axis() {
    let mut untyped_b = model(
        6,
        vec![node(
            "Sub",
            &["x", "b"],
            &["y"],
            vec![int("broadcast", 1), int("axis", 1)],
        )],
        vec![],
        &["y"],
    );
    let graph = untyped_b.graph.as_mut().unwrap();
    graph.input.push(ValueInfoProto {
        name: "b".into(),
        ..Default::default()
    });
    let error = parse(&untyped_b).unwrap_err();
    assert!(matches!(error, Error::Unsupported { .. }), "{error}");
    assert!(error.to_string().contains("axis"), "{error}");
    let too_deep = binary_model("Div", &[8, 8], vec![int("broadcast", 1), int("axis", 3)]);
    assert!(matches!(parse(&too_deep), Err(Error::InvalidModel { .. })));
}

#[test]
fn opset_6_comparisons_align_like_arithmetic() {
    let graph = parse(&binary_model(
        "Greater",
        &[3, 8],
        vec![int("broadcast", 1), int("axis", 1)],
    ))
    .unwrap();
    let reshape = &graph.nodes[0];
    let shape_name = reshape.inputs[1].as_deref().unwrap();
    assert_eq!(graph.initializers[shape_name].to_f64_vec(), [0.0, 0.0, 1.0]);
    assert!(matches!(graph.nodes[1].op, Op::Compare(_)));
}

#[test]
fn opset_6_is_test_must_be_set_and_consumed_inputs_is_ignored() {
    let channel = |name: &str| f32_tensor(name, &[3], vec![1.0; 3]);
    let batch_norm = |attributes| {
        model(
            6,
            vec![node(
                "BatchNormalization",
                &["x", "s", "b", "m", "v"],
                &["y"],
                attributes,
            )],
            vec![channel("s"), channel("b"), channel("m"), channel("v")],
            &["y"],
        )
    };
    let inference = batch_norm(vec![
        int("is_test", 1),
        ints("consumed_inputs", &[0, 0, 0, 1, 1]),
    ]);
    assert!(matches!(
        parse(&inference).unwrap().nodes[0].op,
        Op::BatchNormalization { .. }
    ));
    let message = parse_error(&batch_norm(vec![]));
    assert!(message.contains("is_test"), "{message}");
    let dropout = |attributes| {
        model(
            6,
            vec![node("Dropout", &["x"], &["y"], attributes)],
            vec![],
            &["y"],
        )
    };
    assert_eq!(
        parse(&dropout(vec![int("is_test", 1)])).unwrap().nodes[0].op,
        Op::Dropout
    );
    assert!(matches!(
        parse(&dropout(vec![int("is_test", 0)])),
        Err(Error::Unsupported { .. })
    ));
    let relu = model(
        6,
        vec![node("Relu", &["x"], &["y"], vec![])],
        vec![],
        &["y"],
    );
    assert!(parse(&relu).is_ok());
    let add = binary_model("Add", &[1, 3, 8, 8], vec![ints("consumed_inputs", &[0, 0])]);
    assert!(parse(&add).is_ok());
    assert!(matches!(
        parse(&model(5, vec![], vec![], &[])),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn a_model_importing_only_other_domains_is_unsupported_naming_the_first_op() {
    let mut training = model(
        13,
        vec![node("Adagrad", &["x"], &["y"], vec![])],
        vec![],
        &["y"],
    );
    training.opset_import = vec![OperatorSetIdProto {
        domain: "ai.onnx.preview.training".into(),
        version: 1,
    }];
    let error = parse(&training).unwrap_err();
    let Error::Unsupported { location, detail } = &error else {
        panic!("{error}")
    };
    assert_eq!(location, "node 'Adagrad_node' (Adagrad)");
    assert!(
        detail.contains("op Adagrad") && detail.contains("ai.onnx.preview.training"),
        "{detail}"
    );
    training.graph.as_mut().unwrap().node[0].domain = "ai.onnx.ml".into();
    let message = parse_error(&training);
    assert!(
        message.contains("Adagrad") && message.contains("ai.onnx.ml"),
        "{message}"
    );
    training.graph.as_mut().unwrap().node.clear();
    assert!(matches!(parse(&training), Err(Error::InvalidModel { .. })));
}
