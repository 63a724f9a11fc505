//! Loader tests on models built in code: a good model, then every kind of damage a file can
//! carry (truncation, wrong wire types, hostile dims, cycles, missing values, unknown ops and
//! domains, mistyped attributes, external data pointing out of bounds).

use super::proto::{DataLocation, GraphProto, ModelProto, StringStringEntryProto, TensorProto};
use super::testing::{f32_tensor, float, int, ints, model, node, parse, parse_error, TempDir};
use super::{load_onnx, parse_onnx, parse_tensor_proto};
use crate::error::Error;
use crate::graph::{AutoPad, Dim, Op};
use crate::tensor::DType;
use prost::Message;

/// Conv (bias) → Relu → MaxPool → GlobalAveragePool → Flatten → Gemm, opset 13.
fn small_cnn() -> ModelProto {
    let nodes = vec![
        node(
            "Conv",
            &["x", "w", "b"],
            &["c"],
            vec![ints("pads", &[1, 1, 1, 1])],
        ),
        node("Relu", &["c"], &["r"], vec![]),
        node(
            "MaxPool",
            &["r"],
            &["p"],
            vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
        ),
        node("GlobalAveragePool", &["p"], &["g"], vec![]),
        node("Flatten", &["g"], &["f"], vec![]),
        node(
            "Gemm",
            &["f", "fc_w", "fc_b"],
            &["y"],
            vec![int("transB", 1)],
        ),
    ];
    let initializers = vec![
        f32_tensor("w", &[4, 3, 3, 3], vec![0.5; 108]),
        f32_tensor("b", &[4], vec![0.0; 4]),
        f32_tensor("fc_w", &[2, 4], vec![1.0; 8]),
        f32_tensor("fc_b", &[2], vec![0.0; 2]),
    ];
    let mut model = model(13, nodes, initializers, &["y"]);
    model.metadata_props.push(StringStringEntryProto {
        key: "names".into(),
        value: "cat,dog".into(),
    });
    model
}

pub(super) fn graph_mut(model: &mut ModelProto) -> &mut GraphProto {
    model.graph.as_mut().unwrap()
}

#[test]
fn a_small_cnn_loads_with_defaults_filled() {
    let graph = parse(&small_cnn()).unwrap();
    let names: Vec<&str> = graph.nodes.iter().map(|node| node.op.name()).collect();
    assert_eq!(
        names,
        [
            "Conv",
            "Relu",
            "MaxPool",
            "GlobalAveragePool",
            "Flatten",
            "Gemm"
        ]
    );
    let Op::Conv(conv) = &graph.nodes[0].op else {
        panic!("{:?}", graph.nodes[0].op)
    };
    assert_eq!(
        (conv.strides.as_slice(), conv.dilations.as_slice()),
        (&[1, 1][..], &[1, 1][..])
    );
    assert_eq!(
        (conv.group, conv.auto_pad, conv.kernel_shape.len()),
        (1, AutoPad::NotSet, 0)
    );
    let Op::MaxPool(pool) = &graph.nodes[2].op else {
        panic!()
    };
    assert_eq!(
        (pool.pads.as_slice(), pool.ceil_mode),
        (&[0, 0, 0, 0][..], false)
    );
    assert!(matches!(
        graph.nodes[5].op,
        Op::Gemm {
            alpha: 1.0,
            trans_b: true,
            trans_a: false,
            ..
        }
    ));
    assert_eq!(graph.initializers.len(), 4);
    assert_eq!(graph.initializers["w"].shape(), &[4, 3, 3, 3]);
    let input = &graph.inputs[0];
    assert_eq!(input.dtype, Some(DType::F32));
    assert_eq!(
        input.shape.as_deref().unwrap()[0],
        Dim::Symbol("batch".into())
    );
    assert_eq!(graph.metadata["names"], "cat,dog");
}

#[test]
fn truncated_and_mistyped_bytes_are_invalid_models() {
    let bytes = small_cnn().encode_to_vec();
    for cut in [1, bytes.len() / 3, bytes.len() - 1] {
        let error = parse_onnx(&bytes[..cut], None).unwrap_err();
        assert!(
            matches!(error, Error::InvalidModel { .. }),
            "cut at {cut}: {error}"
        );
    }
    let graph_as_varint = [0x38, 0x01];
    let error = parse_onnx(&graph_as_varint, None).unwrap_err();
    assert!(error.to_string().contains("wire type"), "{error}");
    assert!(parse_onnx(&[], None)
        .unwrap_err()
        .to_string()
        .contains("has no graph"));
}

#[test]
fn hostile_initializer_dims_fail_without_allocating() {
    let mut negative = small_cnn();
    graph_mut(&mut negative).initializer[0].dims = vec![4, -3, 3, 3];
    assert!(parse_error(&negative).contains("negative"));
    let mut enormous = small_cnn();
    graph_mut(&mut enormous).initializer[0] = TensorProto {
        name: "w".into(),
        dims: vec![1 << 40, 1 << 40],
        data_type: 1,
        ..Default::default()
    };
    let message = parse_error(&enormous);
    assert!(
        message.contains("initializer 'w'") && message.contains("KILN_MAX_TENSOR_BYTES"),
        "{message}"
    );
    let mut short_raw = small_cnn();
    graph_mut(&mut short_raw).initializer[1].raw_data = Some(vec![0; 15]);
    let message = parse_error(&short_raw);
    assert!(
        message.contains("initializer 'b'") && message.contains("15 bytes"),
        "{message}"
    );
}

#[test]
fn cycles_and_missing_values_name_the_node() {
    let cycle = model(
        13,
        vec![
            node("Relu", &["x"], &["a"], vec![]),
            node("Add", &["a", "c"], &["b"], vec![]),
            node("Neg", &["b"], &["c"], vec![]),
        ],
        vec![],
        &["b"],
    );
    let message = parse_error(&cycle);
    assert!(
        message.contains("cycle") && message.contains("node 'Add_node'"),
        "{message}"
    );
    let mut missing = small_cnn();
    graph_mut(&mut missing).initializer.remove(0);
    let message = parse_error(&missing);
    assert!(
        message.contains("node 'Conv_node' (Conv)") && message.contains("'w'"),
        "{message}"
    );
    let mut no_output = small_cnn();
    graph_mut(&mut no_output).output[0].name = "nothing".into();
    assert!(parse_error(&no_output).contains("graph output 'nothing'"));
}

#[test]
fn unknown_ops_and_domains_are_unsupported_by_name() {
    let unknown = model(
        13,
        vec![node("Foo", &["x"], &["y"], vec![])],
        vec![],
        &["y"],
    );
    let error = parse(&unknown).unwrap_err();
    let Error::Unsupported { location, detail } = &error else {
        panic!("{error}")
    };
    assert_eq!(location, "node 'Foo_node' (Foo)");
    assert_eq!(detail, "op Foo (opset 13) is not in kiln's op set");
    let mut custom = node("FusedConv", &["x"], &["y"], vec![]);
    custom.domain = "com.microsoft".into();
    let mut foreign_only = model(13, vec![custom], vec![], &["y"]);
    foreign_only.opset_import[0].domain = "com.microsoft".into();
    let message = parse_error(&foreign_only);
    assert!(
        message.contains("FusedConv") && message.contains("com.microsoft"),
        "{message}"
    );
    foreign_only.graph.as_mut().unwrap().node[0].domain.clear();
    let message = parse_error(&foreign_only);
    assert!(
        message.contains("FusedConv") && message.contains("com.microsoft"),
        "{message}"
    );
    let too_new = model(
        13,
        vec![node("Gelu", &["x"], &["y"], vec![])],
        vec![],
        &["y"],
    );
    assert!(parse_error(&too_new).contains("from opset 20"));
    assert!(matches!(
        parse(&model(5, vec![], vec![], &[])),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn wrong_attribute_types_and_values_are_invalid() {
    let mut mistyped = small_cnn();
    graph_mut(&mut mistyped).node[0]
        .attribute
        .push(float("group", 1.0));
    let message = parse_error(&mistyped);
    assert!(
        message.contains("node 'Conv_node' (Conv)") && message.contains("'group' should be Int"),
        "{message}"
    );
    let mut zero_stride = small_cnn();
    graph_mut(&mut zero_stride).node[2].attribute[1] = ints("strides", &[0, 2]);
    assert!(parse_error(&zero_stride).contains("'strides'"));
    let mut short_pads = small_cnn();
    graph_mut(&mut short_pads).node[0].attribute[0] = ints("pads", &[1, 1]);
    assert!(parse_error(&short_pads).contains("'pads' has 2 entries, expected 4"));
    let bad_perm = model(
        13,
        vec![node(
            "Transpose",
            &["x"],
            &["y"],
            vec![ints("perm", &[0, 0, 1, 2])],
        )],
        vec![],
        &["y"],
    );
    assert!(parse_error(&bad_perm).contains("not a permutation"));
}

/// The small CNN with its conv weight `w` stored in `w.bin` at `offset`.
pub(super) fn external_weight_model(location: &str, offset: &str) -> ModelProto {
    let mut model = small_cnn();
    let weight = &mut graph_mut(&mut model).initializer[0];
    weight.raw_data = None;
    weight.data_location = DataLocation::External as i32;
    for (key, value) in [
        ("location", location),
        ("offset", offset),
        ("length", "432"),
    ] {
        weight.external_data.push(StringStringEntryProto {
            key: key.into(),
            value: value.into(),
        });
    }
    model
}

#[test]
fn external_data_is_read_inside_its_directory_only() {
    let dir = TempDir::new("loader-external");
    let weights: Vec<u8> = (0..108u32).flat_map(|i| (i as f32).to_le_bytes()).collect();
    let mut file = vec![0u8; 64];
    file.extend_from_slice(&weights);
    std::fs::write(dir.0.join("w.bin"), &file).unwrap();
    let model_path = dir.0.join("model.onnx");
    std::fs::write(
        &model_path,
        external_weight_model("w.bin", "64").encode_to_vec(),
    )
    .unwrap();
    let graph = load_onnx(&model_path).unwrap();
    assert_eq!(graph.initializers["w"].as_f32().unwrap()[107], 107.0);
    let bytes_only = parse_onnx(&external_weight_model("w.bin", "64").encode_to_vec(), None);
    assert!(bytes_only
        .unwrap_err()
        .to_string()
        .contains("without its directory"));
    for (location, offset, expected) in [
        ("../w.bin", "0", "inside the model's directory"),
        ("/etc/hosts", "0", "inside the model's directory"),
        ("w.bin", "100", "past the end"),
        ("w.bin", "99999999999999999999", "not a byte count"),
    ] {
        let bytes = external_weight_model(location, offset).encode_to_vec();
        let message = parse_onnx(&bytes, Some(&dir.0)).unwrap_err().to_string();
        assert!(
            message.contains(expected) && message.contains("initializer 'w'"),
            "{location}: {message}"
        );
    }
}

#[test]
fn constants_become_initializers_and_initializer_inputs_are_dropped() {
    let mut model = model(
        13,
        vec![
            node(
                "Constant",
                &[],
                &["shape"],
                vec![ints("value_ints", &[-1, 192])],
            ),
            node("Reshape", &["x", "shape"], &["y"], vec![]),
        ],
        vec![f32_tensor("unused", &[1], vec![1.0])],
        &["y"],
    );
    graph_mut(&mut model)
        .input
        .push(super::testing::tensor_info("unused", DType::F32, &[1]));
    let graph = parse(&model).unwrap();
    assert_eq!(
        graph.initializers["shape"].to_i64_vec("test").unwrap(),
        vec![-1, 192]
    );
    assert_eq!(graph.inputs.len(), 1);
    assert_eq!(graph.nodes.len(), 1);
}

#[test]
fn unread_optional_outputs_are_dropped_and_read_ones_unsupported() {
    let dropout = |outputs: &[&str]| {
        model(
            13,
            vec![node("Dropout", &["x"], &["y", "mask"], vec![])],
            vec![],
            outputs,
        )
    };
    let graph = parse(&dropout(&["y"])).unwrap();
    assert_eq!(graph.nodes[0].outputs, ["y"]);
    assert!(matches!(
        parse(&dropout(&["y", "mask"])),
        Err(Error::Unsupported { .. })
    ));
    let max_pool = node(
        "MaxPool",
        &["x"],
        &["y", "indices"],
        vec![ints("kernel_shape", &[2, 2])],
    );
    let message = parse_error(&model(13, vec![max_pool], vec![], &["y", "indices"]));
    assert!(message.contains("'indices'"), "{message}");
}

#[test]
fn unnamed_nodes_get_names_and_unsorted_files_are_sorted() {
    let mut relu = node("Relu", &["a"], &["y"], vec![]);
    let mut neg = node("Neg", &["x"], &["a"], vec![]);
    relu.name.clear();
    neg.name.clear();
    let graph = parse(&model(13, vec![relu, neg], vec![], &["y"])).unwrap();
    let names: Vec<&str> = graph.nodes.iter().map(|node| node.name.as_str()).collect();
    assert_eq!(names, ["Neg_1", "Relu_0"]);
}

#[test]
fn unsupported_attribute_values_name_the_attribute() {
    let gelu = node(
        "Gelu",
        &["x"],
        &["y"],
        vec![super::testing::string("approximate", "tanh")],
    );
    assert!(parse_error(&model(20, vec![gelu], vec![], &["y"])).contains("'approximate'"));
    let cubic = node(
        "Resize",
        &["x", "", "scales"],
        &["y"],
        vec![super::testing::string("mode", "cubic")],
    );
    let scales = f32_tensor("scales", &[4], vec![1.0, 1.0, 2.0, 2.0]);
    assert!(
        parse_error(&model(13, vec![cubic], vec![scales], &["y"])).contains("'mode' is 'cubic'")
    );
    let double_cast = node("Cast", &["x"], &["y"], vec![int("to", 11)]);
    assert!(parse_error(&model(13, vec![double_cast], vec![], &["y"])).contains("DOUBLE"));
    let training = node(
        "BatchNormalization",
        &["x", "s", "b", "m", "v"],
        &["y"],
        vec![int("training_mode", 1)],
    );
    let stats: Vec<_> = ["s", "b", "m", "v"]
        .iter()
        .map(|name| f32_tensor(name, &[3], vec![1.0; 3]))
        .collect();
    assert!(matches!(
        parse(&model(15, vec![training], stats, &["y"])),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn test_data_tensors_parse_with_their_names() {
    let bytes = f32_tensor("input_0", &[2], vec![1.5, -2.0]).encode_to_vec();
    let (name, tensor) = parse_tensor_proto(&bytes).unwrap();
    assert_eq!(
        (name.as_str(), tensor.as_f32().unwrap()),
        ("input_0", &[1.5, -2.0][..])
    );
    assert!(parse_tensor_proto(&bytes[..bytes.len() - 2]).is_err());
}

#[test]
fn activations_carry_their_attributes() {
    let leaky = node("LeakyRelu", &["x"], &["y"], vec![float("alpha", 0.25)]);
    let graph = parse(&model(13, vec![leaky], vec![], &["y"])).unwrap();
    assert_eq!(
        graph.nodes[0].op,
        Op::Unary(crate::ops::elementwise::UnaryOp::Activation(
            crate::ops::PointwiseActivation::LeakyRelu { alpha: 0.25 }
        ))
    );
}
