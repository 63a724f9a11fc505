//! Opset normalisation tests: the same computation written in an old opset (attributes) and a
//! new one (inputs named as the importer names its synthesised initializers) must import to
//! equal graphs; opset-dependent defaults (Softmax, Resize, Split) must be filled as ONNX says.

use super::proto::{NodeProto, TensorProto};
use super::testing::{
    f32_tensor, float, floats, i64_tensor, int, ints, model, node, parse, parse_error, string,
    tensor,
};
use crate::error::Error;
use crate::graph::{Graph, Op, ResizeAttrs};
use crate::ops::layout::PadMode;
use crate::ops::resize::{CoordinateMode, NearestMode, ResizeMode};
use crate::tensor::HostTensor;

fn parse_both(
    old: (i64, Vec<NodeProto>, Vec<TensorProto>),
    new: (i64, Vec<NodeProto>, Vec<TensorProto>),
) -> (Graph, Graph) {
    let old = parse(&model(old.0, old.1, old.2, &["y"])).unwrap();
    let new = parse(&model(new.0, new.1, new.2, &["y"])).unwrap();
    (old, new)
}

fn scalar(name: &str, value: f32) -> TensorProto {
    f32_tensor(name, &[], vec![value])
}

#[test]
fn opset_7_and_13_slice_squeeze_reduce_clip_import_alike() {
    let old = vec![
        node(
            "Slice",
            &["x"],
            &["s"],
            vec![ints("starts", &[0]), ints("ends", &[1]), ints("axes", &[1])],
        ),
        node("Squeeze", &["s"], &["q"], vec![ints("axes", &[1])]),
        node(
            "ReduceSum",
            &["q"],
            &["r"],
            vec![ints("axes", &[2]), int("keepdims", 0)],
        ),
        node(
            "Clip",
            &["r"],
            &["y"],
            vec![float("min", 0.0), float("max", 6.0)],
        ),
    ];
    let new = vec![
        node(
            "Slice",
            &[
                "x",
                "Slice_node::starts",
                "Slice_node::ends",
                "Slice_node::axes",
            ],
            &["s"],
            vec![],
        ),
        node("Squeeze", &["s", "Squeeze_node::axes"], &["q"], vec![]),
        node(
            "ReduceSum",
            &["q", "ReduceSum_node::axes"],
            &["r"],
            vec![int("keepdims", 0)],
        ),
        node(
            "Clip",
            &["r", "Clip_node::min", "Clip_node::max"],
            &["y"],
            vec![],
        ),
    ];
    let initializers = vec![
        i64_tensor("Slice_node::starts", &[0]),
        i64_tensor("Slice_node::ends", &[1]),
        i64_tensor("Slice_node::axes", &[1]),
        i64_tensor("Squeeze_node::axes", &[1]),
        i64_tensor("ReduceSum_node::axes", &[2]),
        scalar("Clip_node::min", 0.0),
        scalar("Clip_node::max", 6.0),
    ];
    let (old, new) = parse_both((7, old, vec![]), (13, new, initializers));
    assert_eq!(old, new);
    assert_eq!(old.nodes.len(), 4);
}

#[test]
fn opset_7_pad_unsqueeze_split_match_their_input_forms() {
    let old = vec![
        node(
            "Pad",
            &["x"],
            &["p"],
            vec![
                ints("pads", &[0, 0, 1, 1, 0, 0, 1, 1]),
                float("value", 2.0),
                string("mode", "constant"),
            ],
        ),
        node("Unsqueeze", &["p"], &["u"], vec![ints("axes", &[0])]),
        node(
            "Split",
            &["u"],
            &["y", "z"],
            vec![int("axis", 3), ints("split", &[4, 6])],
        ),
    ];
    let new = vec![
        node(
            "Pad",
            &["x", "Pad_node::pads", "Pad_node::value"],
            &["p"],
            vec![],
        ),
        node("Unsqueeze", &["p", "Unsqueeze_node::axes"], &["u"], vec![]),
        node(
            "Split",
            &["u", "Split_node::split"],
            &["y", "z"],
            vec![int("axis", 3)],
        ),
    ];
    let initializers = vec![
        i64_tensor("Pad_node::pads", &[0, 0, 1, 1, 0, 0, 1, 1]),
        scalar("Pad_node::value", 2.0),
        i64_tensor("Unsqueeze_node::axes", &[0]),
        i64_tensor("Split_node::split", &[4, 6]),
    ];
    let (old, new) = parse_both((7, old, vec![]), (13, new, initializers));
    assert_eq!(old, new);
    assert_eq!(
        old.nodes[0].op,
        Op::Pad {
            mode: PadMode::Constant(0.0)
        }
    );
    assert_eq!(
        old.nodes[2].op,
        Op::Split {
            axis: 3,
            num_outputs: None
        }
    );
}

#[test]
fn split_without_sizes_splits_into_one_part_per_output() {
    let equal = node("Split", &["x"], &["y", "z", "w"], vec![int("axis", 2)]);
    let graph = parse(&model(13, vec![equal], vec![], &["y"])).unwrap();
    assert_eq!(
        graph.nodes[0].op,
        Op::Split {
            axis: 2,
            num_outputs: Some(3)
        }
    );
    let counted = node("Split", &["x"], &["y", "z"], vec![int("num_outputs", 2)]);
    let graph = parse(&model(18, vec![counted], vec![], &["y"])).unwrap();
    assert_eq!(
        graph.nodes[0].op,
        Op::Split {
            axis: 0,
            num_outputs: Some(2)
        }
    );
    let mismatched = node("Split", &["x"], &["y", "z"], vec![int("num_outputs", 3)]);
    assert!(parse_error(&model(18, vec![mismatched], vec![], &["y"])).contains("'num_outputs'"));
}

#[test]
fn reduce_mean_axes_move_to_an_input_at_opset_18() {
    let old = vec![node(
        "ReduceMean",
        &["x"],
        &["y"],
        vec![ints("axes", &[2, 3])],
    )];
    let new = vec![node(
        "ReduceMean",
        &["x", "ReduceMean_node::axes"],
        &["y"],
        vec![],
    )];
    let (old, new) = parse_both(
        (17, old, vec![]),
        (18, new, vec![i64_tensor("ReduceMean_node::axes", &[2, 3])]),
    );
    assert_eq!(old, new);
}

/// Before opset 13, coercing to 2-D at the last axis normalises along that axis alone: the
/// opset-13 form is held, so export writes one Softmax node and the graph imports back the same.
#[test]
fn an_old_softmax_over_the_last_axis_takes_the_opset_13_form() {
    for axis in [3, -1] {
        let softmax = || vec![node("LogSoftmax", &["x"], &["y"], vec![int("axis", axis)])];
        let (old, new) = parse_both((11, softmax(), vec![]), (13, softmax(), vec![]));
        assert_eq!(old, new, "axis {axis}");
        let exported = crate::import::onnx::to_onnx_bytes(&old).unwrap();
        assert_eq!(
            crate::import::onnx::parse_onnx(&exported, None).unwrap(),
            old
        );
    }
    let softmax = vec![node("Softmax", &["x"], &["y"], vec![int("axis", 2)])];
    let (old, _) = parse_both((11, softmax.clone(), vec![]), (13, softmax, vec![]));
    let coerced = Op::Softmax {
        axis: 2,
        coerce_2d: true,
    };
    assert_eq!(old.nodes[0].op, coerced, "axis 2 of 4 still flattens");
}

#[test]
fn softmax_defaults_follow_the_opset() {
    let softmax = || vec![node("Softmax", &["x"], &["y"], vec![])];
    let (old, new) = parse_both((11, softmax(), vec![]), (13, softmax(), vec![]));
    assert_eq!(
        old.nodes[0].op,
        Op::Softmax {
            axis: 1,
            coerce_2d: true
        }
    );
    assert_eq!(
        new.nodes[0].op,
        Op::Softmax {
            axis: -1,
            coerce_2d: false
        }
    );
}

/// The attributes and inputs of the graph's Resize node.
fn resize_op(graph: &Graph) -> (&ResizeAttrs, Vec<Option<String>>) {
    graph
        .nodes
        .iter()
        .find_map(|node| match &node.op {
            Op::Resize(attrs) => Some((attrs, node.inputs.clone())),
            _ => None,
        })
        .expect("a Resize node")
}

#[test]
fn upsample_7_and_9_become_the_same_asymmetric_resize() {
    let old = vec![node(
        "Upsample",
        &["x"],
        &["y"],
        vec![floats("scales", &[1.0, 1.0, 2.0, 2.0])],
    )];
    let new = vec![node(
        "Upsample",
        &["x", "Upsample_node::scales"],
        &["y"],
        vec![string("mode", "nearest")],
    )];
    let scales = f32_tensor("Upsample_node::scales", &[4], vec![1.0, 1.0, 2.0, 2.0]);
    let (old, new) = parse_both((7, old, vec![]), (9, new, vec![scales]));
    assert_eq!(old, new);
    let (attrs, inputs) = resize_op(&old);
    assert_eq!(attrs.mode, ResizeMode::Nearest(NearestMode::Floor));
    assert_eq!(attrs.coordinates, CoordinateMode::Asymmetric);
    assert_eq!(
        inputs,
        [Some("x".into()), None, Some("Upsample_node::scales".into())]
    );
}

#[test]
fn resize_forms_normalise_inputs_and_defaults() {
    let shrink = f32_tensor("scales", &[4], vec![1.0, 1.0, 0.5, 0.5]);
    let opset_10 = parse(&model(
        10,
        vec![node("Resize", &["x", "scales"], &["y"], vec![])],
        vec![shrink],
        &["y"],
    ))
    .unwrap();
    let (attrs, inputs) = resize_op(&opset_10);
    assert_eq!(attrs.mode, ResizeMode::Nearest(NearestMode::Ceil));
    assert_eq!(inputs, [Some("x".into()), None, Some("scales".into())]);
    let sizes = i64_tensor("sizes", &[1, 3, 16, 16]);
    let empty_scales = f32_tensor("scales", &[0], vec![]);
    let roi = f32_tensor("roi", &[0], vec![]);
    let opset_11 = node(
        "Resize",
        &["x", "roi", "scales", "sizes"],
        &["y"],
        vec![string("mode", "linear")],
    );
    let graph = parse(&model(
        11,
        vec![opset_11],
        vec![sizes, empty_scales, roi],
        &["y"],
    ))
    .unwrap();
    let (attrs, inputs) = resize_op(&graph);
    assert_eq!(
        (attrs.mode, attrs.coordinates),
        (ResizeMode::Linear, CoordinateMode::HalfPixel)
    );
    assert_eq!(inputs, [Some("x".into()), None, None, Some("sizes".into())]);
    let scales = f32_tensor("scales", &[2], vec![2.0, 2.0]);
    let opset_18 = node(
        "Resize",
        &["x", "", "scales"],
        &["y"],
        vec![ints("axes", &[2, 3])],
    );
    let graph = parse(&model(18, vec![opset_18], vec![scales.clone()], &["y"])).unwrap();
    assert_eq!(resize_op(&graph).0.axes, [2, 3]);
    assert_eq!(
        resize_op(&graph).0.mode,
        ResizeMode::Nearest(NearestMode::RoundPreferFloor)
    );
    let antialias = node(
        "Resize",
        &["x", "", "scales"],
        &["y"],
        vec![int("antialias", 1)],
    );
    let error = parse(&model(18, vec![antialias], vec![scales], &["y"])).unwrap_err();
    assert!(
        matches!(&error, Error::Unsupported { detail, .. } if detail.contains("antialias")),
        "{error}"
    );
    let neither = node("Resize", &["x"], &["y"], vec![]);
    assert!(parse_error(&model(13, vec![neither], vec![], &["y"])).contains("neither"));
}

#[test]
fn conv_lists_follow_the_weight_rank_or_stay_empty() {
    let weight = f32_tensor("w", &[2, 3, 3, 3], vec![0.0; 54]);
    let transpose = node(
        "ConvTranspose",
        &["x", "w"],
        &["y"],
        vec![ints("strides", &[2, 2])],
    );
    let graph = parse(&model(13, vec![transpose], vec![weight], &["y"])).unwrap();
    let Op::ConvTranspose(attrs) = &graph.nodes[0].op else {
        panic!()
    };
    assert_eq!(
        (attrs.output_padding.as_slice(), attrs.conv.pads.as_slice()),
        (&[0, 0][..], &[0, 0, 0, 0][..])
    );
    let dynamic_weight = node("Conv", &["x", "x"], &["y"], vec![]);
    let graph = parse(&model(13, vec![dynamic_weight], vec![], &["y"])).unwrap();
    let Op::Conv(attrs) = &graph.nodes[0].op else {
        panic!()
    };
    assert!(attrs.strides.is_empty() && attrs.pads.is_empty() && attrs.dilations.is_empty());
}

#[test]
fn constant_of_shape_defaults_to_an_f32_zero() {
    let graph = parse(&model(
        13,
        vec![node("ConstantOfShape", &["x"], &["y"], vec![])],
        vec![],
        &["y"],
    ))
    .unwrap();
    let zero = HostTensor::from_f32(&[1], vec![0.0]).unwrap();
    assert_eq!(graph.nodes[0].op, Op::ConstantOfShape { value: zero });
}

#[test]
fn constants_later_in_the_file_are_seen_by_converters() {
    let weight = f32_tensor("", &[2, 3, 3, 3], vec![0.0; 54]);
    let nodes = vec![
        node("Conv", &["x", "w"], &["c"], vec![]),
        node("Resize", &["c", "", "scales", "sizes"], &["y"], vec![]),
        node("Constant", &[], &["w"], vec![tensor("value", weight)]),
        node(
            "Constant",
            &[],
            &["scales"],
            vec![tensor("value", f32_tensor("", &[0], vec![]))],
        ),
        node(
            "Constant",
            &[],
            &["sizes"],
            vec![ints("value_ints", &[1, 2, 4, 4])],
        ),
    ];
    let graph = parse(&model(13, nodes, vec![], &["y"])).unwrap();
    let Op::Conv(conv) = &graph.nodes[0].op else {
        panic!()
    };
    assert_eq!(conv.dilations, [1, 1]);
    assert_eq!(
        resize_op(&graph).1,
        [Some("c".into()), None, None, Some("sizes".into())]
    );
}

#[test]
fn lrn_fills_its_defaults_and_requires_a_size() {
    let lrn = node("LRN", &["x"], &["y"], vec![int("size", 5)]);
    let graph = parse(&model(13, vec![lrn], vec![], &["y"])).unwrap();
    let defaults = crate::ops::normalization::LrnAttrs {
        size: 5,
        alpha: 1e-4,
        beta: 0.75,
        bias: 1.0,
    };
    assert_eq!(graph.nodes[0].op, Op::Lrn(defaults));
    let sizeless = node("LRN", &["x"], &["y"], vec![float("alpha", 0.1)]);
    assert!(parse_error(&model(13, vec![sizeless], vec![], &["y"])).contains("'size'"));
}
