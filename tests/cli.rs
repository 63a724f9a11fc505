//! The `kiln` binary's model-file commands, run as a user would: `kiln convert` between `.onnx`
//! and `.kiln`, and `kiln inspect` on both, on a small convolution model written by the test.

use kiln::format::{load_kiln, save_kiln, Provenance};
use kiln::graph::{AutoPad, ConvAttrs, Graph, Node, Op, PackedMatrix, PackedWeight, ValueInfo};
use kiln::import::onnx::proto::{data_type, ModelProto};
use kiln::import::onnx::{load_onnx, save_onnx};
use kiln::ops::Activation;
use kiln::tensor::{DType, HostTensor, Q4GroupSize, Q4Weights};
use prost::Message;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Output channels and the reduction `C·kh·kw` of the test convolution: 40 is not a multiple of
/// the Q4 group of 32.
const CHANNELS_OUT: usize = 4;
const REDUCTION: usize = 40;

fn temp_folder(name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("kiln-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

fn kiln(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .output()
        .expect("the kiln binary runs")
}

fn stdout_of(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kiln failed: {stderr}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// `y = Conv(x, w, b)` with `x` `[1, 10, 5, 5]` and `w` `[4, 10, 2, 2]`.
fn conv_graph() -> Graph {
    let attrs = ConvAttrs {
        kernel_shape: vec![2, 2],
        strides: vec![1, 1],
        pads: vec![0, 0, 0, 0],
        dilations: vec![1, 1],
        group: 1,
        auto_pad: AutoPad::NotSet,
        activation: Activation::Identity,
    };
    let weights: Vec<f32> = (0..CHANNELS_OUT * REDUCTION)
        .map(|i| (i % 13) as f32 / 4.0 - 1.5)
        .collect();
    let mut graph = Graph {
        name: "conv".into(),
        inputs: vec![ValueInfo {
            name: "x".into(),
            dtype: Some(DType::F32),
            shape: None,
        }],
        outputs: vec![ValueInfo {
            name: "y".into(),
            dtype: Some(DType::F32),
            shape: None,
        }],
        nodes: vec![Node {
            name: "conv0".into(),
            op: Op::Conv(attrs),
            inputs: ["x", "w", "b"].map(|name| Some(name.to_string())).to_vec(),
            outputs: vec!["y".into()],
        }],
        ..Graph::default()
    };
    let w = HostTensor::from_f32(&[CHANNELS_OUT, 10, 2, 2], weights).unwrap();
    graph.initializers.insert("w".into(), w);
    let b = HostTensor::from_f32(&[CHANNELS_OUT], vec![0.5; CHANNELS_OUT]).unwrap();
    graph.initializers.insert("b".into(), b);
    graph
}

#[test]
fn convert_onnx_to_kiln_and_back_keeps_the_graph() {
    let folder = temp_folder("convert");
    let (onnx, kiln_file, back) = (
        folder.join("m.onnx"),
        folder.join("m.kiln"),
        folder.join("back.onnx"),
    );
    save_onnx(&conv_graph(), &onnx).unwrap();
    let original = load_onnx(&onnx).unwrap();
    assert!(
        stdout_of(&kiln(&["convert".as_ref(), &onnx, &kiln_file])).contains("1 nodes, 2 weights")
    );
    let model = load_kiln(&kiln_file).unwrap();
    assert_eq!(model.graph, original);
    assert_eq!(model.provenance.source_file.as_deref(), Some("m.onnx"));
    assert_eq!(
        model.provenance.source_sha256.as_ref().map(String::len),
        Some(64)
    );
    stdout_of(&kiln(&["convert".as_ref(), &kiln_file, &back]));
    assert_eq!(load_onnx(&back).unwrap(), original);
    std::fs::remove_dir_all(folder).unwrap();
}

#[test]
fn inspect_prints_the_same_table_for_onnx_and_kiln() {
    let folder = temp_folder("inspect");
    let (onnx, kiln_file) = (folder.join("m.onnx"), folder.join("m.kiln"));
    save_onnx(&conv_graph(), &onnx).unwrap();
    stdout_of(&kiln(&["convert".as_ref(), &onnx, &kiln_file]));
    let from_onnx = stdout_of(&kiln(&["inspect".as_ref(), &onnx]));
    let from_kiln = stdout_of(&kiln(&["inspect".as_ref(), &kiln_file]));
    let table = |text: &str| text[text.find("model '").unwrap()..].to_string();
    assert_eq!(table(&from_onnx), table(&from_kiln));
    assert!(from_kiln.contains("sha256") && from_kiln.contains("recipe: null"));
    let parameters = CHANNELS_OUT * REDUCTION + CHANNELS_OUT;
    let totals = format!(
        "2 weights, {parameters} parameters, {} bytes",
        parameters * 4
    );
    assert!(from_onnx.contains(&totals), "{from_onnx}");
    assert!(from_onnx.contains("conv0") && from_onnx.contains("[4, 10, 2, 2]"));
    std::fs::remove_dir_all(folder).unwrap();
}

#[test]
fn packed_weights_inspect_by_layout_and_export_as_qdq_or_dense_with_a_warning() {
    let folder = temp_folder("packed");
    let (kiln_file, onnx) = (folder.join("q4.kiln"), folder.join("q4.onnx"));
    let mut graph = conv_graph();
    let dense = graph.initializers.remove("w").unwrap();
    let q4 = Q4Weights::quantize(
        dense.as_f32().unwrap(),
        CHANNELS_OUT,
        REDUCTION,
        Q4GroupSize::G32,
        true,
    );
    let weight =
        PackedWeight::new(PackedMatrix::Q4(q4.unwrap()), dense.shape().to_vec(), false).unwrap();
    let dequantized = weight.to_dense().unwrap();
    graph.packed_weights.insert("w".into(), weight);
    save_kiln(&graph, &Provenance::in_memory(), &kiln_file).unwrap();
    let table = stdout_of(&kiln(&["inspect".as_ref(), &kiln_file]));
    // Two groups per row of 16 bytes of nibbles and a 2-byte scale each (symmetric: no zero
    // points stored).
    let q4_bytes = CHANNELS_OUT * 2 * (16 + 2);
    assert!(
        table.contains("q4 g32") && table.contains(&format!("{q4_bytes}")),
        "{table}"
    );
    let output = kiln(&["convert".as_ref(), &kiln_file, &onnx]);
    stdout_of(&output);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("dense"));
    let model = ModelProto::decode(&std::fs::read(&onnx).unwrap()[..]).unwrap();
    let int4 = model.graph.unwrap().initializer;
    assert!(
        int4.iter()
            .any(|tensor| tensor.data_type == data_type::INT4),
        "an INT4 initializer"
    );
    assert_eq!(load_onnx(&onnx).unwrap().initializers["w"], dequantized);
    let opset_17 = [
        "convert".as_ref(),
        kiln_file.as_path(),
        onnx.as_path(),
        "--opset".as_ref(),
        "17".as_ref(),
    ];
    let output = kiln(&opset_17);
    stdout_of(&output);
    let warning = String::from_utf8_lossy(&output.stderr);
    assert!(
        warning.contains("'w'") && warning.contains("dense"),
        "{warning}"
    );
    assert_eq!(load_onnx(&onnx).unwrap().initializers["w"], dequantized);
    std::fs::remove_dir_all(folder).unwrap();
}

#[test]
fn unknown_extensions_and_hostile_files_are_errors_not_panics() {
    let folder = temp_folder("errors");
    let (text, kiln_file) = (folder.join("m.txt"), folder.join("junk.kiln"));
    std::fs::write(&text, "not a model").unwrap();
    std::fs::write(&kiln_file, [8u8, 0, 0, 0, 0, 0, 0, 0, b'{', b'}']).unwrap();
    for args in [
        ["inspect".as_ref(), text.as_path()],
        ["inspect".as_ref(), kiln_file.as_path()],
    ] {
        let output = kiln(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.starts_with("error: "),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    std::fs::remove_dir_all(folder).unwrap();
}

/// `y = Relu(x)` with `x` declared f32 `[1e6, N]`: a random input of it would take terabytes.
fn huge_input_graph() -> Graph {
    use kiln::graph::Dim;
    let declared = ValueInfo {
        name: "x".into(),
        dtype: Some(DType::F32),
        shape: Some(vec![Dim::Fixed(1_000_000), Dim::Symbol("N".into())]),
    };
    Graph {
        name: "huge".into(),
        inputs: vec![declared],
        outputs: vec![ValueInfo {
            name: "y".into(),
            dtype: Some(DType::F32),
            shape: None,
        }],
        nodes: vec![Node {
            name: "relu".into(),
            op: Op::Unary(kiln::ops::elementwise::UnaryOp::Activation(
                kiln::ops::PointwiseActivation::Relu,
            )),
            inputs: vec![Some("x".into())],
            outputs: vec!["y".into()],
        }],
        ..Graph::default()
    }
}

/// The stderr of a kiln run that must fail cleanly (an `error:` line, no panic, no abort).
fn clean_failure(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .output()
        .expect("the kiln binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    // A code, not a signal: an abort (SIGABRT) has none.
    assert!(
        output.status.code().is_some(),
        "{args:?} was killed: {stderr}"
    );
    assert!(!output.status.success(), "{args:?} succeeded: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("memory allocation"),
        "{stderr}"
    );
    stderr
}

#[cfg(unix)]
#[test]
fn oversized_inputs_dims_and_device_files_fail_cleanly() {
    let folder = temp_folder("hostile-run");
    let model = folder.join("huge.onnx");
    save_onnx(&huge_input_graph(), &model).unwrap();
    let model = model.to_str().unwrap();
    let stderr = clean_failure(&["run", "--cpu", model, "--dim", "N=1000000"]);
    assert!(
        stderr.contains("random input 'x'") && stderr.contains("KILN_MAX_RANDOM_INPUT_BYTES"),
        "{stderr}"
    );
    let stderr = clean_failure(&["run", "--cpu", model, "--dim", "N=1000000000000"]);
    assert!(stderr.contains("N=1000000000000"), "{stderr}");
    let zero_model = folder.join("zero.onnx");
    std::os::unix::fs::symlink("/dev/zero", &zero_model).unwrap();
    let stderr = clean_failure(&["run", "--cpu", zero_model.to_str().unwrap()]);
    assert!(stderr.contains("not a regular file"), "{stderr}");
    let zero_input = folder.join("x.npy");
    std::os::unix::fs::symlink("/dev/zero", &zero_input).unwrap();
    let input = format!("x={}", zero_input.display());
    let stderr = clean_failure(&["run", "--cpu", model, "--input", &input]);
    assert!(stderr.contains("not a regular file"), "{stderr}");
    std::fs::remove_dir_all(folder).unwrap();
}
