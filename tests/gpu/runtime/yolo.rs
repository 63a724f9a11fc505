//! YOLOv3-tiny from `models/yolov3-tiny.cfg` with seeded weights, at a small input, for the runtime
//! tests that need a real network (the layer structure matters, not trained values).

use std::path::Path;

use kiln::check::SeededRng;
use kiln::graph::{Graph, Op};
use kiln::import::darknet::parse_darknet;
use kiln::tensor::HostTensor;

/// The f32 count of yolov3-tiny's weights: the published `yolov3-tiny.weights` is 35 434 956 bytes,
/// a 20-byte header then 8 858 734 floats.
const YOLOV3_TINY_FLOATS: usize = 8_858_734;

/// The input side the tests run at: 416 is darknet's, 128 keeps the CPU reference quick and still
/// gives both heads a grid (4×4 and 8×8).
pub const SIDE: usize = 128;

/// The graph with seeded weights, or `None` (after saying so) when `models/` lacks the cfg.
pub fn yolov3_tiny() -> Option<Graph> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/yolov3-tiny.cfg");
    let Ok(cfg) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var_os("KILN_REQUIRE_DETECTION_ASSETS").is_none(),
            "models/ is missing: run scripts/fetch_detection_assets.sh"
        );
        eprintln!("skipped: run scripts/fetch_detection_assets.sh for the real-model test");
        return None;
    };
    let cfg = cfg
        .replace("width=416", &format!("width={SIDE}"))
        .replace("height=416", &format!("height={SIDE}"));
    let mut weights = vec![0u8; 20 + 4 * YOLOV3_TINY_FLOATS];
    weights[4] = 2; // version 0.2: a 64-bit `seen` count
    let mut graph = parse_darknet(&cfg, &weights).unwrap().graph;
    reseed(&mut graph);
    Some(graph)
}

/// Replaces the weights of every Conv and BatchNormalization (the other initializers, such as the
/// upsampling scales, are structure): a conv weight by uniform values in ±√(3/fan_in) (unit
/// variance out for unit variance in), a vector (biases, BN statistics and scales) by values in
/// [0.5, 1.5) so that BN variances stay positive and activations of order one.
fn reseed(graph: &mut Graph) {
    let mut rng = SeededRng::new(31);
    let weighted = |op: &Op| matches!(op, Op::Conv(_) | Op::BatchNormalization { .. });
    let mut names: Vec<String> = (graph.nodes.iter())
        .filter(|node| weighted(&node.op))
        .flat_map(|node| node.inputs.iter().skip(1).flatten().cloned())
        .filter(|name| graph.initializers.contains_key(name))
        .collect();
    names.sort();
    names.dedup();
    for name in names {
        let shape = graph.initializers[&name].shape().to_vec();
        let count: usize = shape.iter().product();
        let values = if shape.len() == 4 {
            let bound = (3.0 / (count / shape[0]) as f32).sqrt();
            rng.uniform_vec(count, -bound, bound)
        } else {
            rng.uniform_vec(count, 0.5, 1.5)
        };
        let seeded = HostTensor::from_f32(&shape, values).unwrap();
        graph.initializers.insert(name, seeded);
    }
}
