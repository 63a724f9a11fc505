//! The Darknet importer on small cfg + weights files written here (no download): the graph's
//! structure and heads, its values (through the CPU reference backend) against a plain-loop
//! transcription of darknet's layers (`darknet_import/reference.rs`), and every malformed-file
//! error.
//!
//! The real-model check is ignored by default; run in order:
//! 1. `scripts/fetch_detection_assets.sh` (models/yolov3-tiny.{cfg,weights}, models/photos/)
//! 2. `cargo test --test darknet_import -- --ignored yolov3_tiny_imports` (models/yolov3-tiny.onnx)
//! 3. `python3 scripts/ort_reference.py models/yolov3-tiny.onnx --image models/photos/dog.jpg
//!    --prefix yolov3-tiny_dog --cfg models/yolov3-tiny.cfg --names models/coco.names`
//! 4. `cargo test --test darknet_import -- --ignored yolov3_tiny_heads --nocapture`

#[path = "darknet_import/cfgs.rs"]
mod cfgs;
#[path = "darknet_import/reference.rs"]
mod darknet_reference;

use cfgs::{EXTRAS_CFG, TINY_CFG};
use darknet_reference::ReferenceNet;
use kiln::check::SeededRng;
use kiln::graph::{Dim, Op};
use kiln::import::darknet::{load_darknet, parse_darknet, DarknetModel};
use kiln::tensor::HostTensor;
use kiln::Error;
use std::path::PathBuf;

/// Writes `cfg` and weights drawn from `seed` to a fresh folder and returns the two paths and the
/// reference network holding the same weights.
fn write_model(name: &str, cfg: &str, seed: u64) -> (PathBuf, PathBuf, ReferenceNet) {
    let reference = ReferenceNet::from_cfg(cfg, &mut SeededRng::new(seed));
    let folder = std::env::temp_dir().join(format!("kiln-darknet-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let (cfg_path, weights_path) = (
        folder.join(format!("{name}.cfg")),
        folder.join(format!("{name}.weights")),
    );
    std::fs::write(&cfg_path, cfg).unwrap();
    std::fs::write(&weights_path, reference.weights_file()).unwrap();
    (cfg_path, weights_path, reference)
}

fn op_names(model: &DarknetModel) -> Vec<&'static str> {
    model
        .graph
        .nodes
        .iter()
        .map(|node| node.op.name())
        .collect()
}

#[test]
fn tiny_model_imports_to_the_expected_graph_and_heads() {
    let (cfg, weights, _) = write_model("structure", TINY_CFG, 1);
    let model = load_darknet(&cfg, &weights).unwrap();
    model.graph.validate().unwrap();
    assert_eq!(model.graph.name, "structure");
    assert_eq!(model.input, [3, 16, 24]);
    let expected_ops = [
        "Conv",
        "BatchNormalization",
        "LeakyRelu",
        "MaxPool",
        "Conv",
        "BatchNormalization",
        "LeakyRelu",
        "MaxPool",
        "MaxPool",
        "Conv",
        "Conv",
        "BatchNormalization",
        "LeakyRelu",
        "Resize",
        "Concat",
        "Conv",
    ];
    assert_eq!(op_names(&model), expected_ops);
    let input = &model.graph.inputs[0];
    assert_eq!(input.name, "input");
    let dims = [
        Dim::Symbol("batch".into()),
        Dim::Fixed(3),
        Dim::Fixed(16),
        Dim::Fixed(24),
    ];
    assert_eq!(input.shape.as_deref(), Some(&dims[..]));

    let outputs: Vec<&str> = model
        .graph
        .outputs
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(outputs, ["layer5.conv", "layer11.conv"]);
    let heads: Vec<_> = model
        .heads
        .iter()
        .map(|h| (h.output.as_str(), h.stride, h.classes))
        .collect();
    assert_eq!(heads, [("layer5.conv", 4, 2), ("layer11.conv", 2, 2)]);
    assert_eq!(
        model.heads[0].anchors,
        [[8.0, 9.0], [10.0, 11.0], [12.0, 13.0]]
    );
    assert_eq!(model.heads[1].anchors, [[2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]);
    assert_eq!(model.heads[0].scale_x_y, 1.0);

    let stride_one_pool = &model.graph.nodes[8];
    let Op::MaxPool(attrs) = &stride_one_pool.op else {
        panic!("{stride_one_pool:?}")
    };
    assert_eq!(
        (attrs.strides.as_slice(), attrs.pads.as_slice()),
        (&[1, 1][..], &[0, 0, 1, 1][..])
    );
    let Op::BatchNormalization { epsilon } = model.graph.nodes[1].op else {
        panic!()
    };
    assert_eq!(epsilon, 1e-5);
    // With batch norm, darknet's biases are the normalisation's bias; the conv has none.
    assert_eq!(model.graph.nodes[0].inputs.len(), 2);
    assert_eq!(model.graph.nodes[1].input(2), Some("layer0.bias"));
    assert_eq!(
        model.graph.initializers["layer0.weight"].shape(),
        &[8, 3, 3, 3]
    );
    assert_eq!(
        model.graph.initializers["layer11.weight"].shape(),
        &[21, 24, 3, 3]
    );
}

/// The longest path runs through 4 convolutions of at most K = 216 products each; f32 summation
/// errs by at most K·2⁻²⁴ ≈ 1.3e-5 of the accumulated magnitude per layer, and the reference's
/// weights keep magnitudes near 1 (variance 1/K), so 4 layers stay below 5.2e-5 relative; doubled:
/// an element may differ by 1e-4·(1 + |expected|).
const RELATIVE_TOLERANCE: f64 = 1e-4;

/// The worst `|actual - expected| / (1 + |expected|)` and its index.
fn worst_error(actual: &HostTensor, expected: &[f64]) -> (usize, f64) {
    let actual = actual.to_f64_vec();
    assert_eq!(actual.len(), expected.len());
    let errors = actual
        .iter()
        .zip(expected)
        .map(|(a, e)| (a - e).abs() / (1.0 + e.abs()));
    // NaN sorts above every number, so a NaN output is the worst element.
    errors.enumerate().fold((0, 0.0), |worst, (index, error)| {
        if error.is_nan() || error > worst.1 {
            (index, error)
        } else {
            worst
        }
    })
}

/// Imports `cfg` with weights from `seed`, runs it on the CPU reference backend and compares every
/// head with the plain-loop reference; returns the model.
fn check_against_reference(name: &str, cfg: &str, seed: u64) -> DarknetModel {
    let (cfg_path, weights_path, reference) = write_model(name, cfg, seed);
    let model = load_darknet(&cfg_path, &weights_path).unwrap();
    let [channels, height, width] = model.input;
    let mut rng = SeededRng::new(seed + 100);
    let input = rng.uniform_vec(channels * height * width, 0.0, 1.0);
    let expected = reference.run(&input);
    let tensor = HostTensor::from_f32(&[1, channels, height, width], input).unwrap();
    let outputs = kiln::runtime::cpu::run_graph(&model.graph, &[("input".into(), tensor)]).unwrap();
    assert_eq!(outputs.len(), expected.len());
    for ((output_name, actual), (shape, values)) in outputs.iter().zip(&expected) {
        assert_eq!(actual.shape()[1..], shape[..], "{name} {output_name}");
        let (index, error) = worst_error(actual, values);
        println!("{name} {output_name}: worst error {error:e} at {index} (tolerance {RELATIVE_TOLERANCE:e})");
        assert!(
            error <= RELATIVE_TOLERANCE,
            "{name} {output_name}: element {index} off by {error:e}"
        );
    }
    model
}

#[test]
fn tiny_model_computes_what_darknet_computes() {
    check_against_reference("tiny", TINY_CFG, 2);
}

#[test]
fn grouped_routes_shortcuts_odd_pools_and_activations_compute_what_darknet_computes() {
    let model = check_against_reference("extras", EXTRAS_CFG, 3);
    let head = &model.heads[0];
    assert_eq!((head.stride, head.classes, head.scale_x_y), (3, 2, 1.05));
    assert_eq!(head.anchors, [[5.0, 6.0], [3.0, 4.0]]);
}

/// A version 0.2 weights header and `floats` zeros: more than the small cfgs below read before
/// the error they test.
fn header_and_zeros(floats: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; 20 + 4 * floats];
    bytes[4] = 2;
    bytes
}

fn import_error(cfg: &str, weights: &[u8]) -> (String, String) {
    match parse_darknet(cfg, weights).unwrap_err() {
        Error::InvalidModel { location, detail } => (location, detail),
        other => panic!("expected InvalidModel, got {other}"),
    }
}

#[test]
fn truncated_and_overlong_weights_name_the_layer() {
    let reference = ReferenceNet::from_cfg(TINY_CFG, &mut SeededRng::new(4));
    let weights = reference.weights_file();
    let (location, detail) = import_error(TINY_CFG, &weights[..weights.len() - 4]);
    assert_eq!(location, "section 12 [convolutional] at line 67 (layer 11)");
    assert!(detail.contains("weights need 4536 floats"), "{detail}");
    // Header (20 bytes) and layer 0's 8 biases (32), then 8 of the 32 bytes of its scales.
    let (location, detail) = import_error(TINY_CFG, &weights[..60]);
    assert!(
        location.contains("(layer 0)") && detail.contains("batch-norm"),
        "{location}: {detail}"
    );
    let mut overlong = weights.clone();
    overlong.extend([0u8; 8]);
    let (location, detail) = import_error(TINY_CFG, &overlong);
    assert_eq!(location, "weights file");
    assert!(
        detail.contains("8 bytes remain") && detail.contains("(layer 11)"),
        "{detail}"
    );
    let (location, _) = import_error(TINY_CFG, &weights[..10]);
    assert_eq!(location, "weights header");
}

#[test]
fn malformed_cfgs_name_the_section_and_line() {
    let cases = [
        (
            "[mystery]\nsize=1\n",
            "section 1 [mystery] at line 6 (layer 0)",
            "unknown section",
        ),
        (
            "[route]\nlayers=-3\n",
            "section 1 [route] at line 6 (layer 0)",
            "not an earlier layer",
        ),
        (
            "[route]\n",
            "section 1 [route] at line 6 (layer 0)",
            "'layers' is missing",
        ),
        (
            "[maxpool]\nsize=two\n",
            "section 1 [maxpool] at line 6 (layer 0)",
            "key 'size' (line 7)",
        ),
        (
            "[convolutional]\nfilters=0\n",
            "section 1 [convolutional] at line 6 (layer 0)",
            "at least 1",
        ),
        (
            "[convolutional]\nsize=1\nfilters=4\n[yolo]\nmask=0\nanchors=1,2\nclasses=3\n",
            "section 2 [yolo] at line 9 (layer 1)",
            "need 8",
        ),
        (
            "[convolutional]\nsize=1\nfilters=8\n[yolo]\nmask=0,7\nanchors=1,2\nclasses=3\nnum=1\n",
            "section 2 [yolo] at line 9 (layer 1)",
            "mask index 7",
        ),
    ];
    let net = "[net]\nwidth=8\nheight=8\nchannels=3\n\n";
    for (layers, expected_location, expected_detail) in cases {
        let cfg = format!("{net}{layers}");
        let (location, detail) = import_error(&cfg, &header_and_zeros(64));
        assert_eq!(location, expected_location, "{layers}");
        assert!(detail.contains(expected_detail), "{layers}: {detail}");
    }
}

#[test]
fn damaged_files_are_errors_never_panics() {
    let weights = ReferenceNet::from_cfg(TINY_CFG, &mut SeededRng::new(6)).weights_file();
    for length in (0..weights.len()).step_by(3) {
        assert!(
            parse_darknet(TINY_CFG, &weights[..length]).is_err(),
            "{length} bytes"
        );
    }
    // Every single line dropped or garbled: an Ok (a comment, a key with a default) or an Err.
    let lines: Vec<&str> = TINY_CFG.lines().collect();
    for index in 0..lines.len() {
        let huge = [
            "size=9223372036854775807",
            "filters=9223372036854775807",
            "padding=9223372036854775807",
            "stride=9223372036854775807",
            "num=9223372036854775807",
            "classes=9223372036854775807",
            "height=9223372036854775807",
        ];
        let garbled = ["size=-1", "layers=99", "["].into_iter().chain(huge);
        for replacement in std::iter::once(None).chain(garbled.map(Some)) {
            let mut damaged = lines.clone();
            match replacement {
                Some(text) => damaged[index] = text,
                None => drop(damaged.remove(index)),
            }
            let _ = parse_darknet(&damaged.join("\n"), &weights);
        }
    }
}

#[test]
fn a_cfg_without_yolo_layers_is_an_error() {
    let cfg = "[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=2\n";
    let (location, detail) = import_error(cfg, &header_and_zeros(8));
    assert_eq!(location, "cfg");
    assert!(detail.contains("no [yolo] layer"), "{detail}");
}

#[test]
fn darknet_features_kiln_lacks_are_unsupported() {
    let net = "[net]\nwidth=8\nheight=8\nchannels=3\n\n";
    for (layers, expected) in [
        ("[region]\n", "[region]"),
        ("[convolutional]\nactivation=elu\n", "activation 'elu'"),
        ("[convolutional]\ndilation=2\n", "key 'dilation'"),
        ("[upsample]\nstride=-2\n", "stride=-2"),
        (
            "[convolutional]\nfilters=4\n[maxpool]\nstride=2\n[shortcut]\nfrom=-2\n",
            "adding a [4, 8, 8] layer to a [4, 4, 4] one",
        ),
    ] {
        match parse_darknet(&format!("{net}{layers}"), &header_and_zeros(64)).unwrap_err() {
            Error::Unsupported { detail, .. } => {
                assert!(detail.contains(expected), "{layers}: {detail}")
            }
            other => panic!("{layers}: expected Unsupported, got {other}"),
        }
    }
}

fn models_folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Step 2 of the real-model check (module docs): imports yolov3-tiny, checks its graph, and saves
/// it as `models/yolov3-tiny.onnx` for onnxruntime.
#[test]
#[ignore = "needs models/ from scripts/fetch_detection_assets.sh"]
fn yolov3_tiny_imports_and_saves_as_onnx() {
    let models = models_folder();
    let model = load_darknet(
        &models.join("yolov3-tiny.cfg"),
        &models.join("yolov3-tiny.weights"),
    )
    .expect("run scripts/fetch_detection_assets.sh first");
    model.graph.validate().unwrap();
    assert_eq!(model.input, [3, 416, 416]);
    let heads: Vec<_> = model
        .heads
        .iter()
        .map(|h| (h.stride, h.classes, h.anchors.clone()))
        .collect();
    assert_eq!(
        heads,
        [
            (32, 80, vec![[81.0, 82.0], [135.0, 169.0], [344.0, 319.0]]),
            (16, 80, vec![[10.0, 14.0], [23.0, 27.0], [37.0, 58.0]]),
        ]
    );
    let output_shapes: Vec<_> = model
        .graph
        .outputs
        .iter()
        .map(|o| o.shape.clone().unwrap())
        .collect();
    for (shape, grid) in output_shapes.iter().zip([13, 26]) {
        assert_eq!(
            shape[1..],
            [Dim::Fixed(255), Dim::Fixed(grid), Dim::Fixed(grid)]
        );
    }
    assert_eq!(
        model
            .graph
            .nodes
            .iter()
            .filter(|n| matches!(n.op, Op::Conv(_)))
            .count(),
        13
    );
    let onnx_path = models.join("yolov3-tiny.onnx");
    kiln::import::onnx::save_onnx(&model.graph, &onnx_path).unwrap();
    assert_eq!(
        kiln::import::onnx::load_onnx(&onnx_path).unwrap(),
        model.graph
    );
}

/// Step 4: kiln's CPU reference on the letterboxed dog photo against onnxruntime's raw heads
/// (`models/yolov3-tiny_dog_*.npy`, written by step 3).
#[test]
#[ignore = "needs the .npy files scripts/ort_reference.py writes"]
fn yolov3_tiny_heads_match_onnxruntime() {
    // 13 convolutions in a row, the longest of K = 512·9 = 4608 products; f32 summation in any
    // order errs by at most K·2⁻²⁴ ≈ 2.7e-4 of the layer's magnitude per layer, so 13 layers stay
    // within 3.6e-3 of the output's largest magnitude.
    const RELATIVE_TO_MAX: f64 = 3.6e-3;
    let models = models_folder();
    let model = load_darknet(
        &models.join("yolov3-tiny.cfg"),
        &models.join("yolov3-tiny.weights"),
    )
    .unwrap();
    let input = kiln::io::npy::read_npy(&models.join("yolov3-tiny_dog_input.npy")).unwrap();
    let outputs = kiln::runtime::cpu::run_graph(&model.graph, &[("input".into(), input)]).unwrap();
    for (name, actual) in &outputs {
        let expected =
            kiln::io::npy::read_npy(&models.join(format!("yolov3-tiny_dog_{name}.npy"))).unwrap();
        assert_eq!(actual.shape(), expected.shape(), "{name}");
        let expected = expected.to_f64_vec();
        let largest = expected.iter().fold(0.0f64, |max, v| max.max(v.abs()));
        let worst = actual
            .to_f64_vec()
            .iter()
            .zip(&expected)
            .map(|(a, e)| (a - e).abs())
            .fold(0.0, f64::max);
        println!("{name}: worst difference {worst:e}, largest magnitude {largest}");
        assert!(
            worst <= RELATIVE_TO_MAX * largest,
            "{name}: {worst:e} > {:e}",
            RELATIVE_TO_MAX * largest
        );
    }
}
