//! The CPU decode reference on synthetic heads whose answers are known by hand: boxes in every
//! cell, class ties, nothing above the threshold, one class dominating, every layout.

use kiln::tensor::HostTensor;
use kiln::vision::{
    decode_reference, BoundingBox, BoxesLayout, GridDecode, GridLayout, Head, HeadKind,
};

use crate::synthetic::{boxes_tensor, grid_tensor, random_boxes, random_grid, GridSpec};

/// Logit whose sigmoid is `p`.
fn logit(p: f32) -> f32 {
    (p / (1.0 - p)).ln()
}

fn grid_head(spec: GridSpec, anchors: Vec<[f32; 2]>, decode: GridDecode, shape: &[usize]) -> Head {
    let kind = HeadKind::AnchorGrid {
        anchors,
        stride: [8.0, 8.0],
        decode,
        layout: spec.layout,
    };
    Head::new("grid", shape, kind).unwrap()
}

fn outputs(name: &str, shape: &[usize], values: Vec<f32>) -> Vec<(String, HostTensor)> {
    vec![(
        name.to_string(),
        HostTensor::from_f32(shape, values).unwrap(),
    )]
}

fn assert_box_near(got: BoundingBox, want: BoundingBox) {
    // The logits are f32 (half an ulp, 6e-8 relative, off the exact logit); through exp that
    // moves a 48 px size by 3e-6 px. The reference rounds its f64 result once more to f32.
    // 64 ε = 7.6e-6 px covers both.
    let tolerance = 64.0 * f32::EPSILON;
    for (g, w) in [
        (got.x1, want.x1),
        (got.y1, want.y1),
        (got.x2, want.x2),
        (got.y2, want.y2),
    ] {
        assert!((g - w).abs() <= tolerance, "{got:?} vs {want:?}");
    }
}

#[test]
fn every_cell_decodes_to_its_own_centre_in_both_layouts() {
    for layout in [GridLayout::ChannelsFirst, GridLayout::ChannelsLast] {
        let spec = GridSpec {
            anchors: 2,
            height: 3,
            width: 4,
            classes: 3,
            layout,
        };
        // tx = ty = tw = th = 0: the centre of the cell, the anchor's size; class = column % 3.
        let (shape, values) = grid_tensor(spec, |_, _, column, k| match k {
            4 => logit(0.9),
            k if k == 5 + column % 3 => logit(0.8),
            k if k >= 5 => logit(0.1),
            _ => 0.0,
        });
        let anchors = vec![[10.0, 14.0], [23.0, 27.0]];
        let decode = GridDecode::Darknet { scale_x_y: 1.0 };
        let head = grid_head(spec, anchors.clone(), decode, &shape);
        let found = decode_reference(&[head], &outputs("grid", &shape, values), 0.5).unwrap();
        assert_eq!(found.len(), 2 * 3 * 4);
        for detection in found {
            let (anchor, cell) = (detection.candidate / 12, detection.candidate % 12);
            let (row, column) = (cell / 4, cell % 4);
            assert_eq!(detection.class, column % 3);
            assert!((detection.score - 0.72).abs() < 1e-6);
            let centre = [(column as f32 + 0.5) * 8.0, (row as f32 + 0.5) * 8.0];
            let [w, h] = anchors[anchor];
            assert_box_near(
                detection.bbox,
                BoundingBox::from_center(centre[0], centre[1], w, h),
            );
        }
    }
}

#[test]
fn darknet_scale_and_yolov5_formulas_place_boxes() {
    let spec = GridSpec {
        anchors: 1,
        height: 2,
        width: 2,
        classes: 1,
        layout: GridLayout::ChannelsFirst,
    };
    // σ(tx) = 0.75, σ(tw) = 0.75, in cell (1, 1) only.
    let (shape, values) = grid_tensor(spec, |_, row, column, k| match (row, column, k) {
        (1, 1, 0..=3) => logit(0.75),
        (1, 1, _) => logit(0.9),
        _ => logit(0.01),
    });
    let cases = [
        // Darknet, scale 1.2: offset 0.75·1.2 − 0.1 = 0.8; width 16·e^ln3 = 48.
        (GridDecode::Darknet { scale_x_y: 1.2 }, 0.8, 48.0),
        // YOLOv5: offset 2·0.75 − 0.5 = 1.0; width (2·0.75)²·16 = 36.
        (GridDecode::Yolov5, 1.0, 36.0),
    ];
    for (decode, offset, size) in cases {
        let head = grid_head(spec, vec![[16.0, 16.0]], decode, &shape);
        let found =
            decode_reference(&[head], &outputs("grid", &shape, values.clone()), 0.5).unwrap();
        assert_eq!(found.len(), 1, "{decode:?}");
        assert_eq!(found[0].candidate, 3);
        let centre = (1.0 + offset) * 8.0;
        assert_box_near(
            found[0].bbox,
            BoundingBox::from_center(centre, centre, size, size),
        );
    }
}

#[test]
fn class_ties_go_to_the_lower_class_and_one_class_can_dominate() {
    let classes = 5;
    // Box 0: classes 1 and 3 tie at 0.6; box 1: class 4 dominates; box 2: all at 0.6.
    let scores = [
        [0.1, 0.6, 0.2, 0.6, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.99],
        [0.6; 5],
    ];
    let (shape, values) = boxes_tensor(3, 4 + classes, BoxesLayout::ChannelsFirst, |n, k| {
        if k < 4 {
            [100.0, 50.0, 20.0, 10.0][k]
        } else {
            scores[n][k - 4]
        }
    });
    let kind = HeadKind::Boxes {
        layout: BoxesLayout::ChannelsFirst,
        objectness: false,
    };
    let head = Head::new("boxes", &shape, kind).unwrap();
    let found = decode_reference(&[head], &outputs("boxes", &shape, values), 0.25).unwrap();
    let classes: Vec<usize> = found.iter().map(|d| d.class).collect();
    assert_eq!(classes, vec![1, 4, 0]);
    assert_box_near(
        found[0].bbox,
        BoundingBox {
            x1: 90.0,
            y1: 45.0,
            x2: 110.0,
            y2: 55.0,
        },
    );
}

#[test]
fn nothing_above_the_threshold_decodes_to_nothing() {
    let spec = GridSpec {
        anchors: 3,
        height: 5,
        width: 5,
        classes: 4,
        layout: GridLayout::ChannelsFirst,
    };
    let (shape, values) = grid_tensor(spec, |_, _, _, k| if k >= 4 { logit(0.4) } else { 0.0 });
    let head = grid_head(spec, vec![[1.0, 1.0]; 3], GridDecode::Yolov5, &shape);
    // Every score is 0.4 · 0.4 = 0.16 < 0.25.
    assert!(
        decode_reference(&[head], &outputs("grid", &shape, values), 0.25)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn transposed_and_objectness_box_lists_decode_alike() {
    let per_box = 5 + 2;
    let value = |n: usize, k: usize| match k {
        0..=3 => [30.0, 40.0, 10.0, 8.0][k] + n as f32,
        4 => 0.5,
        _ => 0.2 * (k - 4) as f32 + 0.1 * n as f32,
    };
    let mut results = Vec::new();
    for layout in [BoxesLayout::ChannelsFirst, BoxesLayout::ChannelsLast] {
        let (shape, values) = boxes_tensor(4, per_box, layout, value);
        let head = Head::new(
            "b",
            &shape,
            HeadKind::Boxes {
                layout,
                objectness: true,
            },
        )
        .unwrap();
        results.push(decode_reference(&[head], &outputs("b", &shape, values), 0.25).unwrap());
    }
    assert_eq!(results[0], results[1]);
    // Score = objectness 0.5 × best class (0.4 + 0.1·n): at least 0.25 from n = 1 on.
    let candidates: Vec<usize> = results[0].iter().map(|d| d.candidate).collect();
    assert_eq!(candidates, vec![1, 2, 3]);
    assert!((results[0][0].score - 0.25).abs() < 1e-6);
}

#[test]
fn output_that_does_not_match_its_head_is_an_error() {
    let kind = HeadKind::Boxes {
        layout: BoxesLayout::ChannelsFirst,
        objectness: false,
    };
    let head = Head::new("boxes", &[1, 6, 10], kind).unwrap();
    let wrong = outputs("boxes", &[1, 6, 9], vec![0.0; 54]);
    assert!(decode_reference(std::slice::from_ref(&head), &wrong, 0.25).is_err());
    assert!(
        decode_reference(&[head], &outputs("other", &[1, 6, 10], vec![0.0; 60]), 0.25).is_err()
    );
}

#[test]
fn random_heads_decode_alike_in_either_layout() {
    let anchors = vec![[10.0, 14.0], [23.0, 27.0], [37.0, 58.0]];
    let mut grids = Vec::new();
    for layout in [GridLayout::ChannelsFirst, GridLayout::ChannelsLast] {
        let spec = GridSpec {
            anchors: 3,
            height: 6,
            width: 7,
            classes: 5,
            layout,
        };
        let (shape, values) = random_grid(spec, 11);
        let head = grid_head(spec, anchors.clone(), GridDecode::Yolov5, &shape);
        grids.push(decode_reference(&[head], &outputs("grid", &shape, values), 0.25).unwrap());
    }
    assert!(!grids[0].is_empty());
    assert_eq!(grids[0], grids[1]);
    let mut lists = Vec::new();
    for layout in [BoxesLayout::ChannelsFirst, BoxesLayout::ChannelsLast] {
        let (shape, values) = random_boxes(300, 6, layout, 12);
        let head = Head::new(
            "b",
            &shape,
            HeadKind::Boxes {
                layout,
                objectness: false,
            },
        )
        .unwrap();
        lists.push(decode_reference(&[head], &outputs("b", &shape, values), 0.25).unwrap());
    }
    assert!(!lists[0].is_empty());
    assert_eq!(lists[0], lists[1]);
}
