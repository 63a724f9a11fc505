//! `.kiln` on real models: ONNX → `.kiln` → ONNX gives back the imported graph on every loadable
//! model of the ONNX conformance suites (`cache/onnx-conformance`, built by
//! `scripts/build_onnx_conformance.sh`) and on YOLOv3-tiny (`models/`, from
//! `scripts/fetch_detection_assets.sh`); and the `.kiln` sizes of YOLOv3-tiny with dense, Q8 and
//! Q4 convolution weights. Each test says so and passes when its files are absent.

use kiln::format::{inspect::weight_totals, parse_kiln, to_kiln_bytes, Provenance};
use kiln::graph::packing::unpack_weights;
use kiln::graph::{Graph, Op, PackedMatrix, PackedWeight};
use kiln::import::onnx::{parse_onnx, to_onnx_bytes};
use kiln::tensor::{Q4GroupSize, Q4Weights, Q8Scheme, Q8Weights};
use std::path::{Path, PathBuf};

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// `graph` through `.kiln` and back, then that through ONNX and back: whether each gives
/// `graph` again (compared as structs, or, for graphs holding NaN, which never equals itself, by
/// their `.kiln` bytes).
fn round_trips(graph: &Graph, what: &str) -> [bool; 2] {
    let provenance = Provenance::in_memory();
    let bytes = to_kiln_bytes(graph, &provenance).unwrap_or_else(|e| panic!("{what}: {e}"));
    let from_kiln = parse_kiln(&bytes)
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .graph;
    let onnx = to_onnx_bytes(&from_kiln).unwrap_or_else(|e| panic!("{what}: {e}"));
    let from_onnx = parse_onnx(&onnx, None).unwrap_or_else(|e| panic!("{what}: {e}"));
    // NaN != NaN, so a graph holding NaN does not equal even a clone of itself.
    let comparable = *graph == graph.clone();
    let same = |back: &Graph| {
        if comparable {
            back == graph
        } else {
            to_kiln_bytes(back, &provenance).unwrap() == bytes
        }
    };
    [same(&from_kiln), same(&from_onnx)]
}

fn conformance_models(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            conformance_models(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "onnx") {
            found.push(path);
        }
    }
}

#[test]
fn conformance_models_round_trip_through_kiln_and_onnx() {
    let mut models = Vec::new();
    conformance_models(&repo_path("cache/onnx-conformance"), &mut models);
    if models.is_empty() {
        eprintln!("no conformance suites under cache/onnx-conformance: skipped");
        return;
    }
    models.sort();
    let (mut loaded, mut onnx_changed) = (0, Vec::new());
    for path in &models {
        let folder = path.parent().unwrap();
        let Ok(graph) = parse_onnx(&std::fs::read(path).unwrap(), Some(folder)) else {
            continue;
        };
        let what = path.display().to_string();
        let [kiln_same, onnx_same] = round_trips(&graph, &what);
        assert!(kiln_same, "{what}: the graph changed through .kiln");
        if !onnx_same {
            onnx_changed.push(what);
        }
        loaded += 1;
    }
    eprintln!(
        "{loaded} of {} conformance models load; all round-trip exactly through .kiln; {} change \
         through .kiln → ONNX export → import:\n{}",
        models.len(),
        onnx_changed.len(),
        onnx_changed.join("\n")
    );
    assert!(loaded > 0, "no conformance model loaded");
}

fn yolov3_tiny() -> Option<Graph> {
    let cfg = repo_path("models/yolov3-tiny.cfg");
    let weights = repo_path("models/yolov3-tiny.weights");
    if !cfg.is_file() || !weights.is_file() {
        eprintln!("models/yolov3-tiny.{{cfg,weights}} absent: skipped");
        return None;
    }
    let darknet = kiln::import::darknet::load_darknet(&cfg, &weights).unwrap();
    Some(parse_onnx(&to_onnx_bytes(&darknet.graph).unwrap(), None).unwrap())
}

#[test]
fn yolov3_tiny_round_trips_through_kiln_and_onnx() {
    if let Some(graph) = yolov3_tiny() {
        assert_eq!(round_trips(&graph, "yolov3-tiny"), [true, true]);
    }
}

/// The Conv weights of `graph` (`[N, C, kh, kw]`, so `W` is `[N, C·kh·kw]`) packed by `pack`.
fn pack_conv_weights(graph: &mut Graph, pack: impl Fn(&[f32], usize, usize) -> PackedMatrix) {
    let names: Vec<String> = graph
        .nodes
        .iter()
        .filter(|node| matches!(node.op, Op::Conv(_)))
        .filter_map(|node| node.input(1).map(str::to_string))
        .collect();
    for name in names {
        let tensor = graph.initializers.remove(&name).unwrap();
        let shape = tensor.shape().to_vec();
        let rows = shape[0];
        let cols = tensor.len() / rows;
        let matrix = pack(tensor.as_f32().unwrap(), rows, cols);
        let weight = PackedWeight::new(matrix, shape, false).unwrap();
        graph.packed_weights.insert(name, weight);
    }
}

/// Sizes of YOLOv3-tiny as `.kiln` with f32, Q8 (per output channel, symmetric) and Q4 (groups
/// of 32, symmetric) convolution weights. Per conv weight `W` of `[N, K]` the stored bytes are, by
/// construction (format version 2 stores no zero points for symmetric weights):
/// - Q8: `N·K` int8 values + `N` f32 scales = `N·K + 4N`, against `4·N·K` as f32: `0.25 + 1/K`;
/// - Q4: `ceil(K/32)` groups per row of 16 bytes of nibbles + a 2-byte f16 scale
///   = `18·N·ceil(K/32)`, against `4·N·K`: `0.1406` when 32 divides `K`, more otherwise
///   (YOLOv3-tiny's first conv has `K = 27`, its second `K = 144`).
///
/// These are asserted exactly, and so are the bounds of issue 12 on the whole file (dense
/// batch-norm and bias tensors and the header included): Q8 ≤ 0.27×, Q4 ≤ 0.15× of the dense
/// file.
#[test]
fn yolov3_tiny_sizes_dense_q8_q4() {
    let Some(dense) = yolov3_tiny() else { return };
    let conv_bytes = |graph: &Graph| weight_totals(&only_packed(graph)).bytes;
    let file_bytes = |graph: &Graph| {
        to_kiln_bytes(graph, &Provenance::in_memory())
            .unwrap()
            .len()
    };
    let mut q8 = dense.clone();
    pack_conv_weights(&mut q8, |values, rows, cols| PackedMatrix::Q8 {
        weights: Q8Weights::quantize(values, rows, cols, Q8Scheme::Symmetric).unwrap(),
        unsigned: false,
    });
    let mut q4 = dense.clone();
    pack_conv_weights(&mut q4, |values, rows, cols| {
        PackedMatrix::Q4(Q4Weights::quantize(values, rows, cols, Q4GroupSize::G32, true).unwrap())
    });
    let (mut q8_expected, mut q4_expected, mut conv_f32) = (0, 0, 0);
    for weight in q8.packed_weights.values() {
        let (rows, cols) = weight.matrix.dims();
        q8_expected += rows * cols + 4 * rows;
        q4_expected += 18 * rows * cols.div_ceil(32);
        conv_f32 += 4 * rows * cols;
    }
    assert_eq!(conv_bytes(&q8), q8_expected);
    assert_eq!(conv_bytes(&q4), q4_expected);
    let (q8_ratio, q4_ratio) = (
        q8_expected as f64 / conv_f32 as f64,
        q4_expected as f64 / conv_f32 as f64,
    );
    let dense_file = file_bytes(&dense);
    let (q8_file, q4_file) = (file_bytes(&q8), file_bytes(&q4));
    let (q8_file_ratio, q4_file_ratio) = (
        q8_file as f64 / dense_file as f64,
        q4_file as f64 / dense_file as f64,
    );
    eprintln!(
        "yolov3-tiny .kiln: dense {dense_file} B; Q8 {q8_file} B ({q8_file_ratio:.4}x file, \
         {q8_ratio:.4}x conv weights); Q4 {q4_file} B ({q4_file_ratio:.4}x file, {q4_ratio:.4}x \
         conv weights)"
    );
    assert!(
        q8_ratio <= 0.27 && q4_ratio <= 0.15,
        "{q8_ratio} {q4_ratio}"
    );
    assert!(
        q8_file_ratio <= 0.27 && q4_file_ratio <= 0.15,
        "{q8_file_ratio} {q4_file_ratio}"
    );
    for packed in [q8, q4] {
        let loaded = parse_kiln(&to_kiln_bytes(&packed, &Provenance::in_memory()).unwrap())
            .unwrap()
            .graph;
        assert_eq!(loaded, packed);
        let (mut loaded_dense, mut packed_dense) = (loaded, packed);
        unpack_weights(&mut loaded_dense).unwrap();
        unpack_weights(&mut packed_dense).unwrap();
        assert_eq!(loaded_dense.initializers, packed_dense.initializers);
    }
}

/// `graph` with its dense initializers dropped (for totals over the packed weights only).
fn only_packed(graph: &Graph) -> Graph {
    Graph {
        packed_weights: graph.packed_weights.clone(),
        ..Graph::default()
    }
}
