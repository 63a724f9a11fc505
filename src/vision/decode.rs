//! The CPU reference decode: every candidate of a head to a box in input pixels, its best class
//! and its score, kept when the score reaches the threshold. This is the specification the GPU
//! kernel (`shaders/detect_decode.wgsl`) must match; it computes in f64.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::tensor::{DType, HostTensor, TensorData};
use crate::vision::head::{GridDecode, Head, HeadKind};
use crate::vision::{BoundingBox, Detection};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The first class with the largest score and that score. Comparisons are strict, so ties go to
/// the lower class index, and a NaN first score stays (its candidate is then dropped, as NaN
/// never reaches a threshold).
fn best_class(scores: impl Iterator<Item = f64>) -> (usize, f64) {
    let mut best = (0, f64::NAN);
    for (class, score) in scores.enumerate() {
        if class == 0 || score > best.1 {
            best = (class, score);
        }
    }
    best
}

/// The box of the grid candidate in cell (`column`, `row`) with anchor `anchor` (`[w, h]`), from
/// its raw `tx, ty, tw, th`.
fn grid_box(
    decode: GridDecode,
    stride: [f32; 2],
    anchor: [f32; 2],
    cell: [f64; 2],
    raw: [f64; 4],
) -> BoundingBox {
    let [anchor_w, anchor_h] = anchor.map(f64::from);
    let (offset_x, offset_y, width, height) = match decode {
        GridDecode::Darknet { scale_x_y } => {
            let scale = f64::from(scale_x_y);
            let shift = (scale - 1.0) / 2.0;
            (
                sigmoid(raw[0]) * scale - shift,
                sigmoid(raw[1]) * scale - shift,
                anchor_w * raw[2].exp(),
                anchor_h * raw[3].exp(),
            )
        }
        GridDecode::Yolov5 => (
            2.0 * sigmoid(raw[0]) - 0.5,
            2.0 * sigmoid(raw[1]) - 0.5,
            (2.0 * sigmoid(raw[2])).powi(2) * anchor_w,
            (2.0 * sigmoid(raw[3])).powi(2) * anchor_h,
        ),
    };
    let center_x = (offset_x + cell[0]) * f64::from(stride[0]);
    let center_y = (offset_y + cell[1]) * f64::from(stride[1]);
    BoundingBox::from_center(
        center_x as f32,
        center_y as f32,
        width as f32,
        height as f32,
    )
}

/// The candidates of one head (values `values`, laid out as `head.shape`) whose score is at
/// least `score_threshold`, in candidate order; `first_candidate` numbers them after the heads
/// before this one.
pub fn decode_head(
    head: &Head,
    values: &[f32],
    first_candidate: usize,
    score_threshold: f32,
) -> Result<Vec<Detection>> {
    let layout = head.layout;
    let expected: usize = head.shape.iter().product();
    if values.len() != expected {
        return Err(Error::ShapeMismatch {
            op: "decode",
            detail: format!(
                "head '{}' is {:?} ({expected} values), the output has {}",
                head.output,
                head.shape,
                values.len()
            ),
        });
    }
    let mut detections = Vec::new();
    for candidate in 0..layout.candidates {
        let (anchor, cell) = (candidate / layout.cells, candidate % layout.cells);
        let base = anchor * layout.anchor_stride + cell * layout.cell_stride;
        let value = |k: usize| f64::from(values[base + k * layout.value_stride]);
        let (class, best) = best_class((0..head.classes).map(|c| value(layout.first_class + c)));
        let (score, bbox) = match &head.kind {
            HeadKind::AnchorGrid {
                anchors,
                stride,
                decode,
                ..
            } => {
                let score = sigmoid(value(4)) * sigmoid(best);
                let position = [
                    (cell % layout.grid_width) as f64,
                    (cell / layout.grid_width) as f64,
                ];
                let raw = [value(0), value(1), value(2), value(3)];
                let bbox = grid_box(*decode, *stride, anchors[anchor], position, raw);
                (score, bbox)
            }
            HeadKind::Boxes { objectness, .. } => {
                let score = if *objectness { value(4) * best } else { best };
                let [cx, cy, w, h] = [value(0), value(1), value(2), value(3)].map(|v| v as f32);
                (score, BoundingBox::from_center(cx, cy, w, h))
            }
        };
        if score >= f64::from(score_threshold) {
            detections.push(Detection {
                class,
                score: score as f32,
                bbox,
                candidate: first_candidate + candidate,
            });
        }
    }
    Ok(detections)
}

/// Every head's candidates at or above `score_threshold`, heads in order: `outputs` must hold
/// each head's output by name, as f32 or f16.
pub fn decode_reference(
    heads: &[Head],
    outputs: &[(String, HostTensor)],
    score_threshold: f32,
) -> Result<Vec<Detection>> {
    let mut detections = Vec::new();
    let mut first_candidate = 0;
    for head in heads {
        let (_, tensor) = outputs
            .iter()
            .find(|(name, _)| *name == head.output)
            .ok_or_else(|| Error::InvalidArgument {
                op: "decode",
                detail: format!("the model produced no output '{}'", head.output),
            })?;
        let values: Cow<'_, [f32]> = match tensor.data() {
            TensorData::F32(values) => Cow::Borrowed(values),
            TensorData::F16(values) => Cow::Owned(values.iter().map(|v| v.to_f32()).collect()),
            other => {
                return Err(Error::DTypeMismatch {
                    op: "decode",
                    expected: DType::F32,
                    got: other.dtype(),
                })
            }
        };
        detections.extend(decode_head(
            head,
            &values,
            first_candidate,
            score_threshold,
        )?);
        first_candidate += head.layout.candidates;
    }
    Ok(detections)
}
