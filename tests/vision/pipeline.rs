//! The detector end to end on the CPU backend: the toy YOLO-style graph finds its green square,
//! and a model without a detection head is refused.

use kiln::runtime::Backend;
use kiln::vision::{DetectionModel, Detector, DetectorOptions};
use kiln::Error;

use crate::toy_model::{test_image, toy_model, toy_options, ANCHOR, GREEN_SQUARE};

#[test]
fn toy_detector_finds_the_green_square_on_the_cpu() {
    let mut detector = Detector::new(&toy_model(), Backend::Cpu, toy_options()).unwrap();
    let (detections, times) = detector.detect(&test_image()).unwrap();
    assert_eq!(detections.len(), 1, "{detections:?}");
    let found = detections[0];
    assert_eq!(found.class, 1);
    // A fully green cell: σ(20 − 4)·σ(10 − 5) = 0.9933.
    assert!(found.score > 0.99, "{found:?}");
    // The anchor (32×24 input pixels, 64×48 in the image) centred on a green cell covers the
    // whole square (32×24 in the image), and is clipped to the image.
    let [x1, y1, x2, y2] = GREEN_SQUARE;
    let b = found.bbox;
    assert!(
        b.x1 <= x1 && b.y1 <= y1 && b.x2 >= x2 && b.y2 >= y2,
        "{found:?}"
    );
    assert!(
        b.x1 >= 0.0 && b.y1 >= 0.0 && b.x2 <= 64.0 && b.y2 <= 48.0,
        "{found:?}"
    );
    assert!(b.x2 - b.x1 <= 2.0 * ANCHOR[0] && b.y2 - b.y1 <= 2.0 * ANCHOR[1]);
    assert!(times.total() >= times.inference);
}

#[test]
fn model_without_detection_head_is_refused() {
    let mut model: DetectionModel = toy_model();
    // Without its declared head, the [1, 8, 8, 8] output at stride 4 has no COCO anchors.
    model.declared_heads.clear();
    let error = Detector::new(&model, Backend::Cpu, DetectorOptions::default())
        .err()
        .expect("no head");
    assert!(matches!(error, Error::Unsupported { .. }), "{error}");
    assert!(error.to_string().contains("no detection head"), "{error}");
}
