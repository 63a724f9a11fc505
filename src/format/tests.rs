//! `.kiln` round trips of every weight layout, and the files that must be errors: truncated,
//! newer, oversized, inconsistent or tampered.

use super::*;
use crate::error::Error;
use crate::graph::{Graph, Node, Op, PackedMatrix, PackedWeight, ValueInfo};
use crate::ops::Activation;
use crate::tensor::bsr::{BlockShape, BsrMatrix};
use crate::tensor::nm_sparse::{NmPattern, NmSparseMatrix};
use crate::tensor::{DType, HostTensor, Q4GroupSize, Q4Weights, Q8Scheme, Q8Weights, TensorData};
use safetensors::SafeTensors;
use std::collections::{BTreeMap, HashMap};

/// `N` and `K` of every sample weight: not multiples of the Q4 group (32) nor of the 16-wide
/// blocks, so padding paths are stored too.
const ROWS: usize = 24;
const COLS: usize = 40;

fn dense_values(seed: usize) -> Vec<f32> {
    (0..ROWS * COLS)
        .map(|i| (((i * 7 + seed) % 23) as f32 - 11.0) / 8.0)
        .collect()
}

fn node(name: &str, op: Op, inputs: &[&str], output: &str) -> Node {
    Node {
        name: name.into(),
        op,
        inputs: inputs.iter().map(|input| Some(input.to_string())).collect(),
        outputs: vec![output.into()],
    }
}

fn matmul(activation: Activation) -> Op {
    Op::MatMul { activation }
}

/// A graph with one weight in every packed layout, dense weights of several dtypes, a constant
/// node attribute and infinite float attributes.
pub(crate) fn sample_graph() -> Graph {
    let q8 = Q8Weights::quantize(&dense_values(1), ROWS, COLS, Q8Scheme::Asymmetric).unwrap();
    let q4 = Q4Weights::quantize(&dense_values(2), ROWS, COLS, Q4GroupSize::G32, false).unwrap();
    let bsr = BsrMatrix::from_dense_f32(&dense_values(3), ROWS, COLS, BlockShape::B16x16)
        .unwrap()
        .quantize_i8()
        .unwrap();
    let pruned: Vec<f32> = dense_values(4)
        .iter()
        .enumerate()
        .map(|(i, &value)| if i % 4 < 2 { value } else { 0.0 })
        .collect();
    let nm = NmSparseMatrix::from_dense(&pruned, ROWS, COLS, NmPattern::TWO_FOUR)
        .unwrap()
        .to_f16();
    let packed = |matrix, transposed| {
        let shape = if transposed {
            vec![COLS, ROWS]
        } else {
            vec![ROWS, COLS]
        };
        PackedWeight::new(matrix, shape, transposed).unwrap()
    };
    let mut graph = Graph {
        name: "sample".into(),
        inputs: vec![ValueInfo {
            name: "x".into(),
            dtype: Some(DType::F32),
            shape: None,
        }],
        ..Graph::default()
    };
    let clip = Activation::Clip {
        min: 0.0,
        max: f32::INFINITY,
    };
    let gemm = Op::Gemm {
        alpha: 1.5,
        beta: 0.1,
        trans_a: false,
        trans_b: true,
        activation: clip,
    };
    let fill = HostTensor::new(&[1], TensorData::F16(vec![half::f16::from_f32(0.5)])).unwrap();
    graph.nodes = vec![
        node("mm_q8", matmul(clip), &["x", "w_q8"], "a"),
        node("gemm_q4", gemm, &["x", "w_q4", "bias"], "b"),
        node("mm_bsr", matmul(Activation::Identity), &["x", "w_bsr"], "c"),
        node("mm_nm", matmul(Activation::Identity), &["x", "w_nm"], "d"),
        node("fill", Op::ConstantOfShape { value: fill }, &["shape"], "e"),
    ];
    graph.outputs = ["a", "b", "c", "d", "e"]
        .map(|name| ValueInfo {
            name: name.into(),
            dtype: None,
            shape: None,
        })
        .to_vec();
    let weights = [
        (
            "w_q8",
            packed(
                PackedMatrix::Q8 {
                    weights: q8,
                    unsigned: true,
                },
                true,
            ),
        ),
        ("w_q4", packed(PackedMatrix::Q4(q4), false)),
        ("w_bsr", packed(PackedMatrix::Bsr(bsr), true)),
        ("w_nm", packed(PackedMatrix::NmSparse(nm), true)),
    ];
    graph.packed_weights = weights
        .into_iter()
        .map(|(name, w)| (name.to_string(), w))
        .collect();
    let bias = HostTensor::from_f32(&[ROWS], (0..ROWS).map(|i| i as f32).collect()).unwrap();
    let flags = HostTensor::new(&[3], TensorData::Bool(vec![true, false, true])).unwrap();
    graph.initializers.insert("bias".into(), bias);
    graph.initializers.insert(
        "shape".into(),
        HostTensor::from_i64(&[2], vec![2, 3]).unwrap(),
    );
    graph.initializers.insert("flags".into(), flags);
    graph.initializers.insert(
        "empty".into(),
        HostTensor::zeros(&[0, 4], DType::I32).unwrap(),
    );
    graph.metadata.insert("names".into(), "cat\ndog".into());
    graph
}

fn sample_bytes() -> Vec<u8> {
    to_kiln_bytes(&sample_graph(), &Provenance::in_memory()).unwrap()
}

/// `bytes` with its header JSON and tensors changed by `edit`, written back as safetensors.
fn rewrite(
    bytes: &[u8],
    edit: impl FnOnce(&mut serde_json::Value, &mut BTreeMap<String, StoredTensor>),
) -> Vec<u8> {
    let (_, metadata) = SafeTensors::read_metadata(bytes).unwrap();
    let mut header: serde_json::Value =
        serde_json::from_str(&metadata.metadata().as_ref().unwrap()[METADATA_KEY]).unwrap();
    let tensors = SafeTensors::deserialize(bytes).unwrap();
    let mut stored: BTreeMap<String, StoredTensor> = tensors
        .iter()
        .map(|(name, view)| {
            let tensor = StoredTensor {
                dtype: view.dtype(),
                shape: view.shape().to_vec(),
                bytes: view.data().to_vec(),
            };
            (name.to_string(), tensor)
        })
        .collect();
    edit(&mut header, &mut stored);
    let metadata = HashMap::from([(METADATA_KEY.to_string(), header.to_string())]);
    safetensors::serialize(&stored, Some(metadata)).unwrap()
}

fn invalid_model(bytes: &[u8]) -> String {
    match parse_kiln(bytes) {
        Err(error @ Error::InvalidModel { .. }) => error.to_string(),
        other => panic!("expected an invalid-model error, got {other:?}"),
    }
}

#[test]
fn every_layout_round_trips_exactly_and_saves_identically() {
    let graph = sample_graph();
    let provenance = Provenance {
        recipe: serde_json::json!({"q4": {"group": 32}}),
        ..Provenance::in_memory()
    };
    let bytes = to_kiln_bytes(&graph, &provenance).unwrap();
    let model = parse_kiln(&bytes).unwrap();
    assert_eq!(model.graph, graph);
    assert_eq!(model.provenance, provenance);
    assert_eq!(model.format_version, FORMAT_VERSION);
    assert_eq!(
        to_kiln_bytes(&model.graph, &model.provenance).unwrap(),
        bytes
    );
}

#[test]
fn a_kiln_file_is_a_plain_safetensors_file() {
    let bytes = sample_bytes();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = tensors.names();
    names.sort_unstable();
    assert!(names.contains(&"w_q4.q4.packed") && names.contains(&"w_bsr.bsr.scales"));
    assert_eq!(
        tensors.tensor("w_q8.q8.values").unwrap().shape(),
        [ROWS, COLS]
    );
    assert_eq!(
        tensors.tensor("bias").unwrap().dtype(),
        safetensors::Dtype::F32
    );
}

#[test]
fn a_newer_version_names_both_versions_and_says_to_upgrade() {
    let newer = rewrite(&sample_bytes(), |header, _| {
        header["format_version"] = serde_json::json!(FORMAT_VERSION + 1);
        header["graph"] = serde_json::json!("a layout this kiln cannot read");
    });
    let message = parse_kiln(&newer).unwrap_err().to_string();
    let versions = format!("version {}", FORMAT_VERSION + 1);
    assert!(
        message.contains(&versions) && message.contains("upgrade kiln"),
        "{message}"
    );
}

#[test]
fn truncated_files_are_errors() {
    let bytes = sample_bytes();
    for length in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
        assert!(parse_kiln(&bytes[..length]).is_err(), "length {length}");
    }
    let mut extended = bytes.clone();
    extended.push(0);
    assert!(parse_kiln(&extended).is_err());
}

#[test]
fn missing_extra_and_mistyped_tensors_are_errors() {
    let bytes = sample_bytes();
    let missing = rewrite(&bytes, |_, tensors| {
        tensors.remove("w_q4.q4.scales");
    });
    assert!(invalid_model(&missing).contains("w_q4.q4.scales"));
    let extra = rewrite(&bytes, |_, tensors| {
        let copy = tensors["bias"].clone();
        tensors.insert("stray".into(), copy);
    });
    assert!(invalid_model(&extra).contains("stray"));
    let mistyped = rewrite(&bytes, |_, tensors| {
        let scales = tensors.get_mut("w_q8.q8.scales").unwrap();
        scales.dtype = safetensors::Dtype::I32;
    });
    assert!(invalid_model(&mistyped).contains("w_q8.q8.scales"));
}

#[test]
fn tampered_packed_parts_are_rejected_by_their_layouts() {
    let bytes = sample_bytes();
    let padding = rewrite(&bytes, |_, tensors| {
        let packed = tensors.get_mut("w_q4.q4.packed").unwrap();
        let last = packed.bytes.len() - 1;
        packed.bytes[last] ^= 0x10;
    });
    assert!(invalid_model(&padding).contains("padding"));
    let zero_scale = rewrite(&bytes, |_, tensors| {
        tensors.get_mut("w_q8.q8.scales").unwrap().bytes[..4].fill(0);
    });
    invalid_model(&zero_scale);
    let bad_index = rewrite(&bytes, |_, tensors| {
        tensors.get_mut("w_bsr.bsr.col_idx").unwrap().bytes[..4].fill(0xFF);
    });
    invalid_model(&bad_index);
    let wrong_rows = rewrite(&bytes, |header, _| {
        header["weights"]["w_nm"]["rows"] = serde_json::json!(ROWS + 1);
    });
    invalid_model(&wrong_rows);
}

#[test]
fn a_graph_that_does_not_validate_is_an_error() {
    let dangling = rewrite(&sample_bytes(), |header, _| {
        header["graph"]["nodes"][0]["inputs"][0] = serde_json::json!("nowhere");
    });
    assert!(invalid_model(&dangling).contains("nowhere"));
}

#[test]
fn headers_must_be_kiln_and_within_the_size_cap() {
    let plain = safetensors::serialize(BTreeMap::<String, StoredTensor>::new().iter(), None);
    assert!(invalid_model(&plain.unwrap()).contains("not a .kiln model"));
    let oversized = " ".repeat(MAX_HEADER_BYTES + 1);
    assert!(Header::parse(&oversized)
        .unwrap_err()
        .to_string()
        .contains("more than"));
    assert!(check_version(0).is_err() && check_version(FORMAT_VERSION).is_ok());
}

#[test]
fn files_load_through_a_memory_map() {
    let path = std::env::temp_dir().join(format!("kiln-format-{}.kiln", std::process::id()));
    let graph = sample_graph();
    save_kiln(&graph, &Provenance::in_memory(), &path).unwrap();
    let loaded = load_kiln(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.unwrap().graph, graph);
    assert!(matches!(load_kiln(&path), Err(Error::Io { .. })));
}

/// A small graph whose weights cover what format version 2 stores differently from version 1:
/// symmetric Q4 (zero points all 8) and symmetric Q8 (zero points all 0), beside the asymmetric
/// layouts of [`sample_graph`]. `tests/data/kiln_v1_sample.kiln` holds it as written by the
/// version-1 writer (commit 69b0d76).
pub(crate) fn v1_fixture_graph() -> Graph {
    let mut graph = sample_graph();
    let q4 = Q4Weights::quantize(&dense_values(5), ROWS, COLS, Q4GroupSize::G32, true).unwrap();
    let q8 = Q8Weights::quantize(&dense_values(6), ROWS, COLS, Q8Scheme::Symmetric).unwrap();
    let symmetric = [
        ("w_q4_sym", PackedMatrix::Q4(q4), "f"),
        (
            "w_q8_sym",
            PackedMatrix::Q8 {
                weights: q8,
                unsigned: false,
            },
            "g",
        ),
    ];
    for (name, matrix, output) in symmetric {
        let weight = PackedWeight::new(matrix, vec![ROWS, COLS], false).unwrap();
        graph.packed_weights.insert(name.into(), weight);
        let gemm = Op::Gemm {
            alpha: 1.0,
            beta: 1.0,
            trans_a: false,
            trans_b: true,
            activation: Activation::Identity,
        };
        graph.nodes.push(node(output, gemm, &["x", name], output));
        graph.outputs.push(ValueInfo {
            name: output.into(),
            dtype: None,
            shape: None,
        });
    }
    graph
}

/// The bytes of `tests/data/kiln_v1_sample.kiln`.
fn v1_fixture_bytes() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/kiln_v1_sample.kiln"
    );
    std::fs::read(path).unwrap()
}

#[test]
fn a_version_1_file_still_reads_with_its_zero_points() {
    let model = parse_kiln(&v1_fixture_bytes()).unwrap();
    assert_eq!(model.format_version, 1);
    assert_eq!(model.graph, v1_fixture_graph());
    let tensors = SafeTensors::deserialize(&v1_fixture_bytes())
        .unwrap()
        .names()
        .len();
    let rewritten = to_kiln_bytes(&model.graph, &model.provenance).unwrap();
    let rewritten_tensors = SafeTensors::deserialize(&rewritten).unwrap().names().len();
    // w_q8 (asymmetric quantization of values symmetric about 0) has zero points all 0 too.
    assert_eq!(
        tensors - rewritten_tensors,
        3,
        "the all-zero zero-point parts"
    );
    assert_eq!(parse_kiln(&rewritten).unwrap().graph, model.graph);
}

#[test]
fn version_2_stores_no_zero_points_for_symmetric_weights() {
    let graph = v1_fixture_graph();
    let bytes = to_kiln_bytes(&graph, &Provenance::in_memory()).unwrap();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    for weight in ["w_q4_sym.q4", "w_q8_sym.q8", "w_q8.q8"] {
        assert!(tensors.tensor(&format!("{weight}.zero_points")).is_err());
    }
    assert!(tensors.tensor("w_q4.q4.zero_points").is_ok());
    let model = parse_kiln(&bytes).unwrap();
    assert_eq!(model.format_version, 2);
    assert_eq!(model.graph, graph);
}

#[test]
fn a_symmetric_layout_in_a_version_1_header_is_an_error() {
    let bytes = to_kiln_bytes(&v1_fixture_graph(), &Provenance::in_memory()).unwrap();
    let as_v1 = rewrite(&bytes, |header, _| {
        header["format_version"] = serde_json::json!(1);
    });
    assert!(invalid_model(&as_v1).contains("w_q4_sym"));
}

#[test]
fn a_symmetric_flag_on_a_weight_with_other_zero_points_is_an_error() {
    let bytes = sample_bytes();
    let claimed = rewrite(&bytes, |header, tensors| {
        header["weights"]["w_q4"]["symmetric"] = serde_json::json!(true);
        tensors.remove("w_q4.q4.zero_points");
    });
    assert!(invalid_model(&claimed).contains("w_q4"));
    let stray = rewrite(&bytes, |header, tensors| {
        assert_eq!(
            header["weights"]["w_q8"]["symmetric"],
            serde_json::json!(true)
        );
        let mut zero_points = tensors["w_q8.q8.scales"].clone();
        zero_points.dtype = safetensors::Dtype::I8;
        zero_points.bytes.truncate(ROWS);
        tensors.insert("w_q8.q8.zero_points".into(), zero_points);
    });
    assert!(invalid_model(&stray).contains("w_q8.q8.zero_points"));
    let unclaimed = rewrite(&bytes, |header, _| {
        header["weights"]["w_q8"]["symmetric"] = serde_json::json!(false);
    });
    assert!(invalid_model(&unclaimed).contains("w_q8.q8.zero_points"));
}
