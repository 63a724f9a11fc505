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
//! score of each image (at most 0.25), and its boxes are counted, not asserted: its seeded
//! quantized scores saturate and tie across classes and boxes, so one step decides the class
//! and which of two tied boxes NMS keeps; for it the check is the raw outputs in steps.

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

/// Whether `theirs` has a detection of `d`'s class at IoU ≥ [`SAME_BOX_IOU`] (the same
/// candidate too when `same_candidate`).
fn has_match(d: &Detection, theirs: &[Detection], same_candidate: bool) -> bool {
    theirs.iter().any(|t| {
        t.class == d.class
            && (!same_candidate || t.candidate == d.candidate)
            && t.bbox.iou(&d.bbox) >= SAME_BOX_IOU
    })
}

/// How many detections of `ours` score at least `threshold`, and how many of those have a
/// match in `theirs` ([`has_match`]).
fn matched(ours: &[Detection], theirs: &[Detection], threshold: f32, same: bool) -> [usize; 2] {
    let above: Vec<&Detection> = ours.iter().filter(|d| d.score >= threshold).collect();
    let found = above.iter().filter(|d| has_match(d, theirs, same)).count();
    [above.len(), found]
}

/// The image's candidates and boxes after NMS, compared both ways (see the module doc), asserted
/// when `assert_boxes`; returns onnxruntime's candidates at the threshold, how many of them kiln
/// has, and onnxruntime's boxes after NMS.
fn compare_boxes(image: usize, decoded: &Decoded, name: &str, assert_boxes: bool) -> [usize; 3] {
    let t = decoded.threshold;
    let (kiln, ort) = (&decoded.kiln, &decoded.ort);
    let [ort_above, ort_found] = matched(ort, kiln, t, true);
    let [kiln_above, kiln_found] = matched(kiln, ort, t, true);
    let nms = |all: &[Detection], at: f32| {
        let kept: Vec<Detection> = all.iter().filter(|d| d.score >= at).cloned().collect();
        non_max_suppression(kept, &NmsOptions::default())
    };
    let (kiln_boxes, ort_boxes) = (nms(kiln, t), nms(ort, t));
    let (kiln_lenient, ort_lenient) = (nms(kiln, t / 2.0), nms(ort, t / 2.0));
    if assert_boxes {
        assert!(
            ort_found == ort_above && kiln_found == kiln_above,
            "{name} image {image}: candidates above {t} differ"
        );
        let [ort_kept, ort_kept_found] = matched(&ort_boxes, &kiln_lenient, t, false);
        let [kiln_kept, kiln_kept_found] = matched(&kiln_boxes, &ort_lenient, t, false);
        assert!(
            ort_kept_found == ort_kept && kiln_kept_found == kiln_kept,
            "{name} image {image}: boxes after NMS differ: kiln {kiln_boxes:?}, onnxruntime \
             {ort_boxes:?}"
        );
    }
    [ort_above, ort_found, ort_boxes.len()]
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
    let [mut candidates, mut found, mut boxes] = [0; 3];
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
        let assert_boxes = model.family != "yolov8n";
        let [above, matched, kept] = compare_boxes(image, &decoded, &model.name, assert_boxes);
        candidates += above;
        found += matched;
        boxes += kept;
    }
    let input_shapes = [(model.input.clone(), inputs.shape().to_vec())];
    let [integer, float, conversion] = arithmetic_counts(&graph, &input_shapes);
    eprintln!(
        "REAL {} | {} | max steps {steps} (bound {bound}) | kiln matches {found} of \
         onnxruntime's {candidates} candidates, {boxes} boxes after NMS, over {count} images{} | \
         nodes integer {integer}, float {float}, conversion \
         {conversion} | {:.2} ms per input on {}",
        model.name,
        model.quantization,
        if model.family == "yolov8n" {
            " (not asserted: raw outputs in steps only)"
        } else {
            ""
        },
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
