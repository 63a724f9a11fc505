//! Detectors quantized by onnxruntime (scripts/make_quantized_real_models.py): COCO YOLOv3-tiny
//! with its real weights (exported by `kiln convert`, BatchNorm folded) and a YOLOv8n-style
//! graph with seeded weights, run by kiln with the default Plan against onnxruntime's outputs for
//! the same file and letterboxed photos.
//!
//! Every raw output is within [`requantization_depth`] output steps. Then both engines' outputs
//! go through kiln's detection decode ([`decode_reference`]) and NMS, and the boxes must be the
//! same: every candidate one engine scores at or above the threshold T is, in the other engine,
//! the same candidate (grid cell and anchor, or anchor point), of the same class, at IoU ≥ 0.9,
//! with a score of at least T/2 (a candidate within a few output steps of T may fall on either
//! side of it, never to half of it); and every box left after NMS at T in one engine has a box of
//! the same class at IoU ≥ 0.9 after NMS at T/2 in the other. T is 0.25 for YOLOv3-tiny; the
//! seeded YOLOv8n's scores are not calibrated, so its T is the 10th best positive onnxruntime
//! score of each image (at most 0.25), and only its candidates are compared: its quantized
//! scores saturate, thousands tie at the top level, and NMS among ties orders them by index, so
//! a box that moves by one step can change which of two tied boxes survives.

use std::path::PathBuf;

use kiln::import::onnx::load_onnx;
use kiln::tensor::HostTensor;
use kiln::vision::{
    decode_reference, detect_heads, load_detection_model, non_max_suppression, Detection, Head,
    HeadChoice, HeadOptions, ModelOptions, NmsOptions,
};

use crate::real_models::{
    arithmetic_counts, family, model_inputs, npy, real_models, run_batched, RealModel, TestBackend,
};
use crate::steps::{max_steps, requantization_depth};

/// The score threshold of a real COCO detector (kiln detect's default).
const SCORE_THRESHOLD: f32 = 0.25;
/// Boxes are the same when they overlap this much.
const SAME_BOX_IOU: f32 = 0.9;
/// The seeded YOLOv8n's threshold per image: its this-many-th best onnxruntime score.
const RANKED_CANDIDATES: usize = 10;

/// Boxes of one image, decoded from each engine's outputs.
struct Decoded {
    kiln: Vec<Detection>,
    ort: Vec<Detection>,
    threshold: f32,
}

/// Whether every detection of `ours` scoring at least `threshold` has, in `theirs`, one of the
/// same class at IoU ≥ [`SAME_BOX_IOU`] (the same candidate too when `same_candidate`).
fn all_matched(
    ours: &[Detection],
    theirs: &[Detection],
    threshold: f32,
    same_candidate: bool,
) -> bool {
    (ours.iter().filter(|d| d.score >= threshold)).all(|d| {
        theirs.iter().any(|t| {
            t.class == d.class
                && (!same_candidate || t.candidate == d.candidate)
                && t.bbox.iou(&d.bbox) >= SAME_BOX_IOU
        })
    })
}

/// The image's candidates agree both ways, and with `check_nms` its boxes after NMS too (see
/// the module doc); returns the candidates and the NMS boxes onnxruntime has at the threshold.
fn compare_boxes(image: usize, decoded: &Decoded, name: &str, check_nms: bool) -> [usize; 2] {
    let t = decoded.threshold;
    let (kiln, ort) = (&decoded.kiln, &decoded.ort);
    assert!(
        all_matched(kiln, ort, t, true) && all_matched(ort, kiln, t, true),
        "{name} image {image}: candidates above {t} differ"
    );
    let nms = |all: &[Detection], at: f32| {
        let kept: Vec<Detection> = all.iter().filter(|d| d.score >= at).cloned().collect();
        non_max_suppression(kept, &NmsOptions::default())
    };
    let (kiln_boxes, ort_boxes) = (nms(kiln, t), nms(ort, t));
    let (kiln_lenient, ort_lenient) = (nms(kiln, t / 2.0), nms(ort, t / 2.0));
    assert!(
        !check_nms
            || (all_matched(&ort_boxes, &kiln_lenient, t, false)
                && all_matched(&kiln_boxes, &ort_lenient, t, false)),
        "{name} image {image}: boxes after NMS differ: kiln {kiln_boxes:?}, onnxruntime {ort_boxes:?}"
    );
    [ort.iter().filter(|d| d.score >= t).count(), ort_boxes.len()]
}

/// Image `image`'s share of each output (`[N, ...]` values), as `[1, ...]` tensors named after
/// the heads' outputs. YOLOv8n's `boxes` and `scores` become one `[1, 84, A]` output `det`.
fn image_outputs(
    model: &RealModel,
    all: &[Vec<f32>],
    shapes: &[Vec<usize>],
    image: usize,
) -> Vec<(String, HostTensor)> {
    let slices: Vec<(Vec<usize>, &[f32])> = (all.iter().zip(shapes))
        .map(|(values, shape)| {
            let row: usize = shape[1..].iter().product();
            let mut one = shape.clone();
            one[0] = 1;
            (one, &values[image * row..(image + 1) * row])
        })
        .collect();
    if model.family == "yolov8n" {
        let (boxes, scores) = (&slices[0], &slices[1]);
        let shape = [1, boxes.0[1] + scores.0[1], boxes.0[2]];
        let values = [boxes.1, scores.1].concat();
        return vec![("det".into(), HostTensor::from_f32(&shape, values).unwrap())];
    }
    (model.outputs.iter().zip(slices))
        .map(|(output, (shape, values))| {
            (
                output.name.clone(),
                HostTensor::from_f32(&shape, values.to_vec()).unwrap(),
            )
        })
        .collect()
}

/// The heads of `model`: YOLOv3-tiny's `[yolo]` layers from models/yolov3-tiny.cfg (its
/// anchors), YOLOv8n's anchor-free `det`.
fn heads(model: &RealModel, shapes: &[Vec<usize>], side: u32) -> Vec<Head> {
    if model.family == "yolov8n" {
        let anchors = shapes[0][2];
        let options = HeadOptions {
            choice: HeadChoice::AnchorFree,
            classes: Some(shapes[1][1]),
            anchors: None,
        };
        return detect_heads(
            &[("det".into(), vec![1, 4 + shapes[1][1], anchors])],
            [side; 2],
            &options,
        )
        .expect("YOLOv8n's head");
    }
    let cfg = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/yolov3-tiny.cfg");
    let darknet = load_detection_model(&cfg, &ModelOptions::default())
        .expect("models/yolov3-tiny.cfg (scripts/fetch_detection_assets.sh)");
    (darknet.declared_heads.into_iter().zip(shapes))
        .map(|((output, kind), shape)| {
            let mut one = shape.clone();
            one[0] = 1;
            Head::new(&output, &one, kind).expect("a YOLOv3-tiny head")
        })
        .collect()
}

/// The threshold for one image: [`SCORE_THRESHOLD`], or for the seeded YOLOv8n its
/// [`RANKED_CANDIDATES`]-th best positive onnxruntime candidate score (the lowest positive one
/// when fewer are positive) if lower; `None` when it has no positive score.
fn threshold(model: &RealModel, heads: &[Head], ort: &[(String, HostTensor)]) -> Option<f32> {
    if model.family != "yolov8n" {
        return Some(SCORE_THRESHOLD);
    }
    let mut scores: Vec<f32> = (decode_reference(heads, ort, 0.0).unwrap().iter())
        .map(|d| d.score)
        .filter(|&score| score > 0.0)
        .collect();
    scores.sort_by(|a, b| b.total_cmp(a));
    let ranked = scores.get(RANKED_CANDIDATES - 1).or(scores.last())?;
    Some(ranked.min(SCORE_THRESHOLD))
}

fn check_detector(dir: &std::path::Path, model: &RealModel, backend: &TestBackend) {
    let graph = load_onnx(&dir.join(format!("{}.onnx", model.name))).expect("the model loads");
    let inputs = model_inputs(dir, model);
    let count = inputs.shape()[0];
    let wants: Vec<HostTensor> = model.outputs.iter().map(|o| npy(dir, &o.file)).collect();
    let shapes: Vec<Vec<usize>> = wants.iter().map(|w| w.shape().to_vec()).collect();
    let (got, seconds) = run_batched(&graph, &model.input, &inputs, backend.backend());
    let bound = requantization_depth(&graph) as f64;
    let mut steps: f64 = 0.0;
    for ((values, want), output) in got.iter().zip(&wants).zip(&model.outputs) {
        let got = HostTensor::from_f32(want.shape(), values.clone()).expect("kiln's output shape");
        steps = steps.max(max_steps(&got, want, output.step));
    }
    let want_values: Vec<Vec<f32>> = wants.iter().map(|w| w.as_f32().unwrap().to_vec()).collect();
    let heads = heads(model, &shapes, inputs.shape()[3] as u32);
    let (mut candidates, mut boxes) = (0, 0);
    for image in 0..count {
        let (kiln, ort) = (
            image_outputs(model, &got, &shapes, image),
            image_outputs(model, &want_values, &shapes, image),
        );
        let Some(t) = threshold(model, &heads, &ort) else {
            continue;
        };
        let decoded = Decoded {
            kiln: decode_reference(&heads, &kiln, t / 2.0).unwrap(),
            ort: decode_reference(&heads, &ort, t / 2.0).unwrap(),
            threshold: t,
        };
        let [above, kept] = compare_boxes(image, &decoded, &model.name, model.family != "yolov8n");
        candidates += above;
        boxes += kept;
    }
    let input_shapes = [(model.input.clone(), inputs.shape().to_vec())];
    let [integer, float, conversion] = arithmetic_counts(&graph, &input_shapes);
    eprintln!(
        "REAL {} | {} | max steps {steps} (bound {bound}) | {candidates} candidates and \
         {boxes} boxes after NMS over {count} images, all matched{} | nodes integer {integer}, float {float}, conversion \
         {conversion} | {:.2} ms per input on {}",
        model.name,
        model.quantization,
        if model.family == "yolov8n" { " (candidates; NMS boxes not compared)" } else { "" },
        seconds * 1e3,
        backend.label()
    );
    assert!(steps <= bound, "{}: {steps} steps > {bound}", model.name);
    assert!(candidates > 0, "{}: no candidate to compare", model.name);
}

fn check_family(name: &str) {
    let Some((dir, manifest)) = real_models() else {
        return;
    };
    let backend = TestBackend::from_env();
    for model in family(&manifest, name) {
        check_detector(&dir, model, &backend);
    }
}

#[test]
fn yolov3_tiny_quantized_by_onnxruntime_finds_the_same_boxes() {
    check_family("yolov3_tiny");
}

#[test]
fn yolov8n_style_quantized_by_onnxruntime_finds_the_same_boxes() {
    check_family("yolov8n");
}
