//! Detection decode (anchor grids, anchor-free) on the GPU against the CPU reference, and a small
//! YOLO-style graph end to end through a GPU plan, against the same graph on the CPU backend.

#[path = "../vision/synthetic.rs"]
mod synthetic;
#[path = "../vision/toy_model.rs"]
mod toy_model;

use kiln::check::compare;
use kiln::runtime::Backend;
use kiln::tensor::{GpuTensor, HostTensor};
use kiln::vision::{
    decode_reference, launch_decode, BoxesLayout, DecodeDevice, Detection, Detector, GridDecode,
    GridLayout, Head, HeadKind,
};

use crate::common::gpu;
use synthetic::{boxes_tensor, random_boxes, random_grid, GridSpec};
use toy_model::{test_image, toy_model, toy_options};

/// Relative error of one WGSL sigmoid: `exp` is within (3 + 2|x|) ulp, `1 + e` and the division
/// add ½ and 2.5 ulp, with ulp = 2⁻²³ relative. `exp(tw)` for box sizes is within the same.
fn sigmoid_error(max_abs_logit: f32) -> f32 {
    (6.0 + 2.0 * max_abs_logit) * f32::EPSILON
}

/// A grid score is a product of two sigmoids (one more rounding); a box-list score is at most one
/// product, within the same bound.
fn score_error(max_abs_logit: f32) -> f32 {
    2.0 * sigmoid_error(max_abs_logit) + 0.5 * f32::EPSILON
}

/// Box corners, relative to the largest magnitude among them: at most two sigmoid/exp errors
/// (YOLOv5 squares `2σ(tw)`), plus four roundings (scale, cell offset, stride, half-size).
fn box_error(max_abs_logit: f32) -> f32 {
    2.0 * sigmoid_error(max_abs_logit) + 4.0 * f32::EPSILON
}

fn corners(detections: &[Detection]) -> Vec<f32> {
    detections
        .iter()
        .flat_map(|d| [d.bbox.x1, d.bbox.y1, d.bbox.x2, d.bbox.y2])
        .collect()
}

/// Decodes `heads` on the GPU and checks the candidates against the reference: every candidate
/// scoring clearly above `threshold` is found, nothing clearly below is, classes match exactly
/// (both compare the same f32 values) and scores and boxes agree within the bounds above.
/// Returns how many candidates the GPU kept.
fn check_decode(
    label: &str,
    heads: &[Head],
    tensors: &[(Vec<usize>, Vec<f32>)],
    threshold: f32,
    max_abs_logit: f32,
) -> usize {
    let gpu = gpu().expect("checked by caller");
    let uploaded: Vec<GpuTensor> = tensors
        .iter()
        .map(|(shape, values)| GpuTensor::upload(gpu, shape, values).unwrap())
        .collect();
    let refs: Vec<&GpuTensor> = uploaded.iter().collect();
    let got = launch_decode(gpu, heads, &refs, threshold)
        .unwrap()
        .read(gpu)
        .unwrap();
    let outputs: Vec<(String, HostTensor)> = heads
        .iter()
        .zip(tensors)
        .map(|(head, (shape, values))| {
            (
                head.output.clone(),
                HostTensor::from_f32(shape, values.clone()).unwrap(),
            )
        })
        .collect();
    let relative = score_error(max_abs_logit);
    let must = decode_reference(heads, &outputs, threshold * (1.0 + relative)).unwrap();
    let may = decode_reference(heads, &outputs, threshold * (1.0 - relative)).unwrap();
    for wanted in &must {
        assert!(
            got.iter().any(|g| g.candidate == wanted.candidate),
            "{label}: GPU missed {wanted:?}"
        );
    }
    let want: Vec<Detection> = got
        .iter()
        .map(|g| {
            *may.iter()
                .find(|m| m.candidate == g.candidate)
                .unwrap_or_else(|| panic!("{label}: GPU kept {g:?}, below the threshold"))
        })
        .collect();
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.class, w.class, "{label}: candidate {}", g.candidate);
    }
    let scores = |list: &[Detection]| list.iter().map(|d| d.score).collect::<Vec<_>>();
    let score_tolerance: Vec<f32> = want.iter().map(|w| w.score * relative).collect();
    compare(
        &format!("{label} scores"),
        &scores(&got),
        &scores(&want),
        &score_tolerance,
    )
    .assert_passed();
    let want_corners = corners(&want);
    let magnitude = want_corners.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let box_tolerance = vec![magnitude * box_error(max_abs_logit); want_corners.len()];
    compare(
        &format!("{label} boxes"),
        &corners(&got),
        &want_corners,
        &box_tolerance,
    )
    .assert_passed();
    got.len()
}

fn grid(
    spec: GridSpec,
    stride: f32,
    anchors: Vec<[f32; 2]>,
    decode: GridDecode,
    seed: u64,
) -> (Head, (Vec<usize>, Vec<f32>)) {
    let (shape, values) = random_grid(spec, seed);
    let kind = HeadKind::AnchorGrid {
        anchors,
        stride: [stride, stride],
        decode,
        layout: spec.layout,
    };
    (
        Head::new(&format!("grid{seed}"), &shape, kind).unwrap(),
        (shape, values),
    )
}

/// The largest logit `random_grid` draws.
const GRID_LOGIT_BOUND: f32 = 6.0;

#[test]
fn darknet_grids_at_three_strides_match_the_reference() {
    if gpu().is_none() {
        return;
    }
    let anchors = [
        vec![[116.0, 90.0], [156.0, 198.0], [373.0, 326.0]],
        vec![[30.0, 61.0], [62.0, 45.0], [59.0, 119.0]],
        vec![[10.0, 13.0], [16.0, 30.0], [33.0, 23.0]],
    ];
    let mut heads = Vec::new();
    let mut tensors = Vec::new();
    for (index, (side, scale_x_y)) in [(4, 1.0), (8, 1.05), (16, 1.2)].into_iter().enumerate() {
        let spec = GridSpec {
            anchors: 3,
            height: side,
            width: side,
            classes: 20,
            layout: GridLayout::ChannelsFirst,
        };
        let decode = GridDecode::Darknet { scale_x_y };
        let (head, tensor) = grid(
            spec,
            128.0 / side as f32,
            anchors[index].clone(),
            decode,
            index as u64,
        );
        heads.push(head);
        tensors.push(tensor);
    }
    let kept = check_decode("darknet grids", &heads, &tensors, 0.25, GRID_LOGIT_BOUND);
    assert!(
        kept > 10,
        "{kept} candidates: the test data should keep some"
    );
}

#[test]
fn yolov5_channels_last_grid_matches_the_reference() {
    if gpu().is_none() {
        return;
    }
    let spec = GridSpec {
        anchors: 3,
        height: 10,
        width: 12,
        classes: 7,
        layout: GridLayout::ChannelsLast,
    };
    let (head, tensor) = grid(
        spec,
        8.0,
        vec![[10.0, 13.0], [16.0, 30.0], [33.0, 23.0]],
        GridDecode::Yolov5,
        5,
    );
    assert!(check_decode("yolov5 grid", &[head], &[tensor], 0.25, GRID_LOGIT_BOUND) > 0);
}

#[test]
fn anchor_free_box_lists_match_the_reference() {
    if gpu().is_none() {
        return;
    }
    let cases = [
        (BoxesLayout::ChannelsFirst, false, 2100, 80),
        (BoxesLayout::ChannelsLast, false, 700, 3),
        (BoxesLayout::ChannelsLast, true, 900, 11),
    ];
    for (seed, (layout, objectness, candidates, values)) in cases.into_iter().enumerate() {
        let (shape, tensor) = random_boxes(candidates, values, layout, seed as u64);
        let head = Head::new("boxes", &shape, HeadKind::Boxes { layout, objectness }).unwrap();
        let label = format!("boxes {layout:?} objectness {objectness}");
        // Scores are used as given: no sigmoid, so no logit enters the bound.
        assert!(
            check_decode(&label, &[head], &[(shape, tensor)], 0.25, 0.0) > 0,
            "{label}"
        );
    }
}

#[test]
fn ties_nan_and_nothing_above_the_threshold_match_the_reference() {
    if gpu().is_none() {
        return;
    }
    let layout = BoxesLayout::ChannelsFirst;
    // Scores in quarters: many classes and candidates tie. Every 7th candidate has a NaN class 0
    // (dropped), every 5th a NaN in its last class (ignored).
    let (shape, values) = boxes_tensor(300, 4 + 6, layout, |n, k| match k {
        0..=3 => 10.0 + (n * 3 + k) as f32,
        4 if n % 7 == 0 => f32::NAN,
        9 if n % 5 == 0 => f32::NAN,
        _ => 0.25 * ((n + k) % 5) as f32,
    });
    let head = Head::new(
        "ties",
        &shape,
        HeadKind::Boxes {
            layout,
            objectness: false,
        },
    )
    .unwrap();
    let tensor = [(shape, values)];
    let kept = check_decode("ties", std::slice::from_ref(&head), &tensor, 0.5, 0.0);
    assert!(kept > 0);
    assert_eq!(check_decode("nothing", &[head], &tensor, 1.5, 0.0), 0);
}

#[test]
fn toy_yolo_graph_detects_alike_on_gpu_and_cpu() {
    let Some(gpu) = gpu() else {
        return;
    };
    let model = toy_model();
    let image = test_image();
    let mut runs = Vec::new();
    for (backend, decode) in [
        (Backend::Gpu(gpu), DecodeDevice::Auto),
        (Backend::Gpu(gpu), DecodeDevice::Cpu),
        (Backend::Cpu, DecodeDevice::Auto),
    ] {
        let options = kiln::vision::DetectorOptions {
            decode,
            ..toy_options()
        };
        let mut detector = Detector::new(&model, backend, options).unwrap();
        let (detections, _) = detector.detect(&image).unwrap();
        runs.push(detections);
    }
    assert_eq!(runs[0].len(), 1, "{:?}", runs[0]);
    assert_eq!(runs[0][0].class, 1);
    // Logits are sums of 51 products (48 in the head, 3 in the backbone) with Σ|w·x| ≤ 44, so the
    // backends differ by at most 51·2⁻²⁴·44 = 1.3e-4 per logit; a score moves by at most 1/4 of
    // each of its two logits' change, plus the sigmoids' own error at |logit| ≤ 16.
    let score_tolerance = 0.5 * 51.0 * 44.0 * f32::EPSILON / 2.0 + score_error(16.0);
    for other in &runs[1..] {
        assert_eq!(other.len(), 1, "{other:?}");
        assert_eq!(
            (other[0].candidate, other[0].class),
            (runs[0][0].candidate, runs[0][0].class)
        );
        compare(
            "toy scores",
            &[other[0].score],
            &[runs[0][0].score],
            &[score_tolerance],
        )
        .assert_passed();
        // The box offsets are exact zeros on both backends (zero weights), so boxes differ only by
        // the sigmoid and exp roundings, on coordinates up to 64 pixels.
        let tolerance = vec![64.0 * box_error(0.0); 4];
        compare("toy box", &corners(other), &corners(&runs[0]), &tolerance).assert_passed();
    }
}
