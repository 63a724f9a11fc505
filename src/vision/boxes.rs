//! Axis-aligned boxes and detections: the values that decode produces, NMS filters and drawing
//! and the JSON report consume.

use serde::Serialize;

/// A box by its corners, `x1 <= x2`, `y1 <= y2`, in pixels (of the network input while decoding,
/// of the original image after [`crate::vision::Letterbox::to_source`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BoundingBox {
    /// Left edge.
    pub x1: f32,
    /// Top edge.
    pub y1: f32,
    /// Right edge.
    pub x2: f32,
    /// Bottom edge.
    pub y2: f32,
}

impl BoundingBox {
    /// The box with centre `(cx, cy)` and size `w × h`.
    pub fn from_center(cx: f32, cy: f32, w: f32, h: f32) -> Self {
        BoundingBox {
            x1: cx - w / 2.0,
            y1: cy - h / 2.0,
            x2: cx + w / 2.0,
            y2: cy + h / 2.0,
        }
    }

    /// Width (0 for an inverted box).
    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }

    /// Height (0 for an inverted box).
    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }

    /// Area (0 for an inverted or degenerate box).
    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    /// Intersection over union; 0 when either box is empty.
    pub fn iou(&self, other: &BoundingBox) -> f32 {
        let overlap = BoundingBox {
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
            x2: self.x2.min(other.x2),
            y2: self.y2.min(other.y2),
        }
        .area();
        let union = self.area() + other.area() - overlap;
        if union > 0.0 {
            overlap / union
        } else {
            0.0
        }
    }
}

/// One scored box of one class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Detection {
    /// The class index (the column of the best class score).
    pub class: usize,
    /// The score: objectness × class probability for anchor grids, the class score otherwise.
    pub score: f32,
    /// Where it is.
    pub bbox: BoundingBox,
    /// Which prediction it came from: heads in order, then anchor-major, then row-major cells (or
    /// the column of an anchor-free output). Decode order on the GPU is not deterministic; this
    /// index is, so it breaks score ties in NMS.
    pub candidate: usize,
}

#[cfg(test)]
mod tests {
    use super::BoundingBox;

    #[test]
    fn iou_of_half_overlapping_boxes_is_a_third() {
        let a = BoundingBox::from_center(1.0, 1.0, 2.0, 2.0);
        let b = BoundingBox::from_center(2.0, 1.0, 2.0, 2.0);
        assert!((a.iou(&b) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(a.iou(&a), 1.0);
    }

    #[test]
    fn disjoint_and_empty_boxes_have_zero_iou() {
        let a = BoundingBox::from_center(0.0, 0.0, 1.0, 1.0);
        let far = BoundingBox::from_center(10.0, 0.0, 1.0, 1.0);
        let empty = BoundingBox::from_center(0.0, 0.0, 0.0, 0.0);
        assert_eq!(a.iou(&far), 0.0);
        assert_eq!(empty.iou(&empty), 0.0);
    }
}
