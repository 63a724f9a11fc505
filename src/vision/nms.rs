//! Class-aware greedy non-maximum suppression on the CPU: boxes in order of score (ties: lower
//! candidate index first, so the result does not depend on the GPU's append order), each kept
//! unless a kept box of its class overlaps it by more than the IoU threshold.

use std::cmp::Ordering;

use crate::vision::Detection;

/// NMS settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NmsOptions {
    /// A box is dropped when its IoU with a kept box of the same class is above this.
    pub iou_threshold: f32,
    /// At most this many boxes are kept (the highest scoring).
    pub max_detections: usize,
    /// Only the highest-scoring this many candidates enter NMS (bounds its quadratic cost).
    pub max_candidates: usize,
}

impl Default for NmsOptions {
    /// IoU 0.45, 300 detections, 30000 candidates (the Ultralytics defaults).
    fn default() -> Self {
        NmsOptions {
            iou_threshold: 0.45,
            max_detections: 300,
            max_candidates: 30_000,
        }
    }
}

/// Score descending, then candidate index ascending: the order NMS visits boxes in.
pub fn score_order(a: &Detection, b: &Detection) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.candidate.cmp(&b.candidate))
}

/// The boxes that survive NMS, highest score first.
pub fn non_max_suppression(mut candidates: Vec<Detection>, options: &NmsOptions) -> Vec<Detection> {
    candidates.sort_by(score_order);
    candidates.truncate(options.max_candidates);
    let mut kept: Vec<Detection> = Vec::new();
    for candidate in candidates {
        if kept.len() >= options.max_detections {
            break;
        }
        let suppressed = kept.iter().any(|winner| {
            winner.class == candidate.class
                && winner.bbox.iou(&candidate.bbox) > options.iou_threshold
        });
        if !suppressed {
            kept.push(candidate);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::BoundingBox;

    fn detection(class: usize, score: f32, x: f32, candidate: usize) -> Detection {
        Detection {
            class,
            score,
            bbox: BoundingBox::from_center(x, 10.0, 10.0, 10.0),
            candidate,
        }
    }

    #[test]
    fn overlapping_box_of_the_same_class_is_suppressed() {
        let boxes = vec![detection(0, 0.8, 10.0, 0), detection(0, 0.9, 11.0, 1)];
        let kept = non_max_suppression(boxes, &NmsOptions::default());
        assert_eq!(kept, vec![detection(0, 0.9, 11.0, 1)]);
    }

    #[test]
    fn other_classes_are_not_suppressed() {
        let boxes = vec![detection(0, 0.8, 10.0, 0), detection(1, 0.9, 10.0, 1)];
        assert_eq!(non_max_suppression(boxes, &NmsOptions::default()).len(), 2);
    }

    #[test]
    fn equal_scores_keep_the_lower_candidate() {
        let boxes = vec![detection(0, 0.5, 10.0, 7), detection(0, 0.5, 10.0, 3)];
        let kept = non_max_suppression(boxes, &NmsOptions::default());
        assert_eq!(
            kept.iter().map(|d| d.candidate).collect::<Vec<_>>(),
            vec![3]
        );
    }
}
