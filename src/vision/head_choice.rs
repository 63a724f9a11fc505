//! Finding a model's detection heads from its output shapes (or as the caller says): which
//! outputs are anchor grids and which anchor-free box lists, their strides and anchors.

use std::str::FromStr;

use crate::error::{Error, Result};
use crate::vision::head::{BoxesLayout, GridDecode, GridLayout, Head, HeadKind};

/// The COCO anchors that YOLOv3 and YOLOv5 share, `[w, h]` in input pixels, by grid stride.
pub const COCO_ANCHORS: [(u32, [[f32; 2]; 3]); 3] = [
    (8, [[10.0, 13.0], [16.0, 30.0], [33.0, 23.0]]),
    (16, [[30.0, 61.0], [62.0, 45.0], [59.0, 119.0]]),
    (32, [[116.0, 90.0], [156.0, 198.0], [373.0, 326.0]]),
];

/// Which head kind to assume (`--head`); `Auto` reads it from the output shapes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeadChoice {
    /// Rank 4 or 5: anchor grid (Darknet formula for rank 4, YOLOv5 for rank 5); rank 3:
    /// anchor-free boxes, with objectness only when the class count is known to be `K − 5`.
    #[default]
    Auto,
    /// Anchor grids decoded with the Darknet formula.
    Darknet,
    /// Anchor grids decoded with the YOLOv5 formula.
    Yolov5,
    /// Anchor-free boxes `[1, 4 + C, N]` or `[1, N, 4 + C]`.
    AnchorFree,
    /// Decoded boxes with objectness, `[1, N, 5 + C]` (YOLOv5 exports).
    Objectness,
}

impl FromStr for HeadChoice {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "auto" => Ok(HeadChoice::Auto),
            "darknet" => Ok(HeadChoice::Darknet),
            "yolov5" => Ok(HeadChoice::Yolov5),
            "anchor-free" => Ok(HeadChoice::AnchorFree),
            "objectness" => Ok(HeadChoice::Objectness),
            _ => Err(Error::InvalidArgument {
                op: "head",
                detail: format!(
                    "unknown head '{text}': expected auto, darknet, yolov5, anchor-free or objectness"
                ),
            }),
        }
    }
}

/// What is known about the heads before looking at the shapes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeadOptions {
    /// The head kind, or `Auto`.
    pub choice: HeadChoice,
    /// The class count, when the class names are known: an output whose class count differs is
    /// no head, and it tells `[1, N, 5 + C]` (objectness) from `[1, N, 4 + C]`.
    pub classes: Option<usize>,
    /// Anchors per grid output, in output order; `None` takes [`COCO_ANCHORS`] by stride.
    pub anchors: Option<Vec<Vec<[f32; 2]>>>,
}

/// The detection heads among `outputs` (name and shape, in the model's order) of a model whose
/// input is `input` = `[width, height]` pixels. Rank-3 outputs are box lists, and when there is
/// one the grids are ignored (exports that keep both hold the same candidates twice); otherwise
/// rank-4 and rank-5 outputs are anchor grids. Outputs of other shapes are skipped; none left is
/// an [`Error::Unsupported`] listing the shapes.
pub fn detect_heads(
    outputs: &[(String, Vec<usize>)],
    input: [u32; 2],
    options: &HeadOptions,
) -> Result<Vec<Head>> {
    let wants_boxes = match options.choice {
        HeadChoice::AnchorFree | HeadChoice::Objectness => true,
        HeadChoice::Darknet | HeadChoice::Yolov5 => false,
        HeadChoice::Auto => outputs.iter().any(|(_, shape)| shape.len() == 3),
    };
    let heads = if wants_boxes {
        box_heads(outputs, options)
    } else {
        grid_heads(outputs, input, options)?
    };
    let fits = |head: &Head| {
        options
            .classes
            .is_none_or(|classes| classes == head.classes)
    };
    let heads: Vec<Head> = heads.into_iter().filter(fits).collect();
    if heads.is_empty() {
        let shapes: Vec<String> = outputs
            .iter()
            .map(|(name, shape)| format!("'{name}' {shape:?}"))
            .collect();
        return Err(Error::Unsupported {
            location: "model outputs".into(),
            detail: format!(
                "no detection head among {}{}: expected anchor grids [1, A·(5 + C), H, W] or \
                 [1, A, H, W, 5 + C], or boxes [1, 4 + C, N] / [1, N, 4 + C]",
                shapes.join(", "),
                options
                    .classes
                    .map(|classes| format!(" with {classes} classes"))
                    .unwrap_or_default()
            ),
        });
    }
    Ok(heads)
}

fn box_heads(outputs: &[(String, Vec<usize>)], options: &HeadOptions) -> Vec<Head> {
    let mut heads = Vec::new();
    for (name, shape) in outputs.iter().filter(|(_, shape)| shape.len() == 3) {
        let layout = if shape[1] <= shape[2] {
            BoxesLayout::ChannelsFirst
        } else {
            BoxesLayout::ChannelsLast
        };
        let values = shape[1].min(shape[2]);
        let objectness = match options.choice {
            HeadChoice::Objectness => true,
            HeadChoice::Auto => options.classes.is_some_and(|c| c + 5 == values),
            _ => false,
        };
        if let Ok(head) = Head::new(name, shape, HeadKind::Boxes { layout, objectness }) {
            heads.push(head);
        }
    }
    heads
}

fn grid_heads(
    outputs: &[(String, Vec<usize>)],
    input: [u32; 2],
    options: &HeadOptions,
) -> Result<Vec<Head>> {
    let grids = outputs
        .iter()
        .filter(|(_, shape)| matches!(shape.len(), 4 | 5) && shape[2] > 0 && shape[3] > 0);
    let mut heads = Vec::new();
    for (index, (name, shape)) in grids.enumerate() {
        let layout = if shape.len() == 4 {
            GridLayout::ChannelsFirst
        } else {
            GridLayout::ChannelsLast
        };
        let decode = match (options.choice, layout) {
            (HeadChoice::Yolov5, _) | (HeadChoice::Auto, GridLayout::ChannelsLast) => {
                GridDecode::Yolov5
            }
            _ => GridDecode::Darknet { scale_x_y: 1.0 },
        };
        let stride = [
            input[0] as f32 / shape[3] as f32,
            input[1] as f32 / shape[2] as f32,
        ];
        let anchors = match &options.anchors {
            Some(per_grid) => {
                per_grid
                    .get(index)
                    .cloned()
                    .ok_or_else(|| Error::InvalidArgument {
                        op: "anchors",
                        detail: format!("{} anchor sets for more grid outputs", per_grid.len()),
                    })?
            }
            None => match coco_anchors(stride) {
                Some(anchors) => anchors,
                None => continue,
            },
        };
        let kind = HeadKind::AnchorGrid {
            anchors,
            stride,
            decode,
            layout,
        };
        if let Ok(head) = Head::new(name, shape, kind) {
            heads.push(head);
        }
    }
    Ok(heads)
}

fn coco_anchors(stride: [f32; 2]) -> Option<Vec<[f32; 2]>> {
    COCO_ANCHORS
        .iter()
        .find(|(coco_stride, _)| stride.iter().all(|&s| s == *coco_stride as f32))
        .map(|(_, anchors)| anchors.to_vec())
}

/// Parses anchor sets: `w,h` pairs separated by commas, one set per grid output, sets separated
/// by `/` (`10,13,16,30,33,23/30,61,62,45,59,119`).
pub fn parse_anchors(text: &str) -> Result<Vec<Vec<[f32; 2]>>> {
    let bad = |detail: String| Error::InvalidArgument {
        op: "anchors",
        detail,
    };
    text.split('/')
        .map(|set| {
            let values: Vec<f32> = set
                .split(',')
                .map(|value| value.trim().parse::<f32>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|error| bad(format!("'{set}': {error}")))?;
            if values.is_empty()
                || !values.len().is_multiple_of(2)
                || values.iter().any(|v| !v.is_finite() || *v <= 0.0)
            {
                return Err(bad(format!("'{set}' is not a list of positive w,h pairs")));
            }
            Ok(values.chunks(2).map(|pair| [pair[0], pair[1]]).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(list: &[(&str, &[usize])]) -> Vec<(String, Vec<usize>)> {
        list.iter()
            .map(|(name, shape)| (name.to_string(), shape.to_vec()))
            .collect()
    }

    #[test]
    fn yolov8_output_is_an_anchor_free_head() {
        let outputs = shapes(&[("output0", &[1, 84, 8400])]);
        let heads = detect_heads(&outputs, [640, 640], &HeadOptions::default()).unwrap();
        assert_eq!(heads.len(), 1);
        assert_eq!(heads[0].classes, 80);
        assert_eq!(heads[0].layout.value_stride, 8400);
    }

    #[test]
    fn known_class_count_finds_objectness() {
        let outputs = shapes(&[("output", &[1, 25200, 85])]);
        let options = HeadOptions {
            classes: Some(80),
            ..HeadOptions::default()
        };
        let heads = detect_heads(&outputs, [640, 640], &options).unwrap();
        assert_eq!(
            heads[0].kind,
            HeadKind::Boxes {
                layout: BoxesLayout::ChannelsLast,
                objectness: true
            }
        );
    }

    #[test]
    fn darknet_grids_take_coco_anchors_by_stride() {
        let outputs = shapes(&[("a", &[1, 255, 13, 13]), ("b", &[1, 255, 26, 26])]);
        let heads = detect_heads(&outputs, [416, 416], &HeadOptions::default()).unwrap();
        assert_eq!(heads.len(), 2);
        match &heads[1].kind {
            HeadKind::AnchorGrid {
                anchors, stride, ..
            } => {
                assert_eq!(*stride, [16.0, 16.0]);
                assert_eq!(anchors[0], [30.0, 61.0]);
            }
            other => panic!("expected a grid, got {other:?}"),
        }
    }

    #[test]
    fn classifier_output_is_no_detection_head() {
        let outputs = shapes(&[("logits", &[1, 1000])]);
        let error = detect_heads(&outputs, [224, 224], &HeadOptions::default()).unwrap_err();
        assert!(error.to_string().contains("no detection head"), "{error}");
    }

    #[test]
    fn anchors_parse_per_grid() {
        let anchors = parse_anchors("10,14,23,27/81,82,135,169").unwrap();
        assert_eq!(
            anchors,
            vec![
                vec![[10.0, 14.0], [23.0, 27.0]],
                vec![[81.0, 82.0], [135.0, 169.0]]
            ]
        );
        assert!(parse_anchors("10,14,23").is_err());
        assert!("grid".parse::<HeadChoice>().is_err());
    }
}
