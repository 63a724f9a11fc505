//! NMS against a textbook version written differently: each class on its own with suppression
//! flags, then the classes merged by score and cut to the maximum count.

use kiln::check::SeededRng;
use kiln::vision::nms::score_order;
use kiln::vision::{non_max_suppression, BoundingBox, Detection, NmsOptions};

fn textbook_nms(detections: &[Detection], options: &NmsOptions) -> Vec<Detection> {
    let mut sorted = detections.to_vec();
    sorted.sort_by(score_order);
    sorted.truncate(options.max_candidates);
    let classes = sorted.iter().map(|d| d.class).max().map_or(0, |c| c + 1);
    let mut kept = Vec::new();
    for class in 0..classes {
        let members: Vec<Detection> = sorted
            .iter()
            .copied()
            .filter(|d| d.class == class)
            .collect();
        let mut suppressed = vec![false; members.len()];
        for i in 0..members.len() {
            if suppressed[i] {
                continue;
            }
            kept.push(members[i]);
            for j in i + 1..members.len() {
                if members[i].bbox.iou(&members[j].bbox) > options.iou_threshold {
                    suppressed[j] = true;
                }
            }
        }
    }
    kept.sort_by(score_order);
    kept.truncate(options.max_detections);
    kept
}

/// Boxes clustered around a few centres, so many overlap; scores from a small set, so many tie.
fn clustered_boxes(count: usize, classes: i32, seed: u64) -> Vec<Detection> {
    let mut rng = SeededRng::new(seed);
    (0..count)
        .map(|candidate| {
            let centre = 100.0 * rng.int_in(0, 3) as f32;
            Detection {
                class: rng.int_in(0, classes - 1) as usize,
                score: 0.1 * rng.int_in(1, 9) as f32,
                bbox: BoundingBox::from_center(
                    centre + rng.uniform(-20.0, 20.0),
                    centre + rng.uniform(-20.0, 20.0),
                    rng.uniform(20.0, 80.0),
                    rng.uniform(20.0, 80.0),
                ),
                candidate,
            }
        })
        .collect()
}

#[test]
fn greedy_nms_matches_the_per_class_textbook_version() {
    let settings = [
        (0.45, 300, 30_000),
        (0.3, 5, 30_000),
        (0.7, 300, 40),
        (0.0, 300, 30_000),
    ];
    for (seed, (iou_threshold, max_detections, max_candidates)) in settings.into_iter().enumerate()
    {
        let options = NmsOptions {
            iou_threshold,
            max_detections,
            max_candidates,
        };
        let mut boxes = clustered_boxes(300, 4, seed as u64);
        // The order boxes arrive in (the GPU's append order) must not matter.
        boxes.reverse();
        let kept = non_max_suppression(boxes.clone(), &options);
        assert_eq!(kept, textbook_nms(&boxes, &options), "{options:?}");
        assert!(kept.len() <= max_detections);
    }
}

#[test]
fn one_dominant_class_keeps_the_best_box_of_each_cluster() {
    let mut rng = SeededRng::new(7);
    let boxes: Vec<Detection> = (0..200)
        .map(|candidate| {
            let centre = 100.0 * (candidate % 4) as f32;
            Detection {
                class: 0,
                score: rng.uniform(0.3, 1.0),
                bbox: BoundingBox::from_center(
                    centre + rng.uniform(-5.0, 5.0),
                    centre + rng.uniform(-5.0, 5.0),
                    60.0,
                    60.0,
                ),
                candidate,
            }
        })
        .collect();
    // In a cluster, 60 px boxes sit at most 10 px apart per axis: IoU >= 50²/(2·60² − 50²) = 0.53,
    // above 0.45; clusters 100 px apart do not touch. So each cluster keeps only its best box.
    let kept = non_max_suppression(boxes.clone(), &NmsOptions::default());
    assert_eq!(kept.len(), 4);
    for cluster in 0..4 {
        let mut members: Vec<Detection> = boxes
            .iter()
            .copied()
            .filter(|d| d.candidate % 4 == cluster)
            .collect();
        members.sort_by(score_order);
        assert!(kept.contains(&members[0]), "cluster {cluster}");
    }
}

#[test]
fn no_candidates_give_no_detections() {
    assert!(non_max_suppression(Vec::new(), &NmsOptions::default()).is_empty());
}
