//! Detection heads: what a model's output tensor holds and where in it each candidate's box,
//! objectness and class scores sit. Anchor grids (YOLOv3 Darknet, YOLOv5 raw) and anchor-free
//! box lists (`[1, 4 + C, N]` from today's YOLO exporters, YOLOv5 exports with objectness) are
//! told apart from the output shapes, or chosen by the caller.

use crate::error::{Error, Result};

/// How an anchor grid's raw values become a box in input pixels (σ is the logistic sigmoid,
/// `(cx, cy)` the cell, `stride` the input pixels per cell, `anchor` in input pixels).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GridDecode {
    /// Darknet `[yolo]`: `x = (σ(tx)·s − (s − 1)/2 + cx)·stride`, `w = anchor_w·exp(tw)`, with
    /// `s = scale_x_y` (1 in YOLOv3, up to 1.2 in YOLOv4).
    Darknet {
        /// The layer's `scale_x_y`.
        scale_x_y: f32,
    },
    /// YOLOv5: `x = (2σ(tx) − 0.5 + cx)·stride`, `w = (2σ(tw))²·anchor_w`.
    Yolov5,
}

/// Where an anchor grid's values sit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridLayout {
    /// `[1, A·(5 + C), H, W]` (Darknet, convolution outputs): channel `a·(5 + C) + k`.
    ChannelsFirst,
    /// `[1, A, H, W, 5 + C]` (YOLOv5's reshaped Detect output).
    ChannelsLast,
}

/// Which axis of an anchor-free `[1, ·, ·]` output holds a candidate's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoxesLayout {
    /// `[1, K, N]`: value `k` of candidate `n` at `k·N + n` (YOLOv5u, v8, v11 exports).
    ChannelsFirst,
    /// `[1, N, K]`: at `n·K + k` (YOLOv5 exports, transposed v8 exports).
    ChannelsLast,
}

/// What one output tensor holds.
#[derive(Clone, Debug, PartialEq)]
pub enum HeadKind {
    /// Raw predictions on a grid of cells, A anchors per cell: `tx, ty, tw, th, obj, class logits`.
    AnchorGrid {
        /// Anchor sizes `[w, h]` in input pixels, one per anchor of this grid.
        anchors: Vec<[f32; 2]>,
        /// Input pixels per cell `[x, y]`.
        stride: [f32; 2],
        /// The box formula.
        decode: GridDecode,
        /// The value layout.
        layout: GridLayout,
    },
    /// Decoded candidates: `cx, cy, w, h` in input pixels, then (with `objectness`) an objectness
    /// probability, then class probabilities (already through the sigmoid).
    Boxes {
        /// The value layout.
        layout: BoxesLayout,
        /// Whether value 4 is an objectness that multiplies the class scores.
        objectness: bool,
    },
}

/// Element strides of one head's tensor: candidate `n = anchor·cells + cell` has value `k` at
/// `anchor·anchor_stride + cell·cell_stride + k·value_stride`. The CPU reference and the GPU
/// kernel both index through this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLayout {
    /// Candidates in the head (`A·H·W`, or `N`).
    pub candidates: usize,
    /// Cells per anchor (`H·W`, or `N` with one "anchor").
    pub cells: usize,
    /// Grid width `W` (1 for box lists).
    pub grid_width: usize,
    /// Stride between anchors.
    pub anchor_stride: usize,
    /// Stride between cells.
    pub cell_stride: usize,
    /// Stride between a candidate's values.
    pub value_stride: usize,
    /// Index of the first class score among a candidate's values (4 or 5).
    pub first_class: usize,
}

/// One detection output of a model, checked against its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    /// The graph output's name.
    pub output: String,
    /// The output's shape.
    pub shape: Vec<usize>,
    /// What it holds.
    pub kind: HeadKind,
    /// Number of classes, from the shape.
    pub classes: usize,
    /// Strides into the tensor.
    pub layout: HeadLayout,
}

fn no_head(output: &str, shape: &[usize], why: &str) -> Error {
    Error::Unsupported {
        location: format!("model output '{output}' {shape:?}"),
        detail: format!("not a detection head: {why}"),
    }
}

impl Head {
    /// `kind` applied to output `output` of `shape`; an [`Error::Unsupported`] when the shape
    /// does not fit the kind (batch other than 1, a channel count not `A·(5 + C)`, no classes).
    pub fn new(output: &str, shape: &[usize], kind: HeadKind) -> Result<Self> {
        let (layout, classes) = match &kind {
            HeadKind::AnchorGrid {
                anchors, layout, ..
            } => grid_layout(output, shape, anchors.len(), *layout)?,
            HeadKind::Boxes { layout, objectness } => {
                boxes_layout(output, shape, *layout, *objectness)?
            }
        };
        Ok(Head {
            output: output.to_string(),
            shape: shape.to_vec(),
            kind,
            classes,
            layout,
        })
    }
}

fn grid_layout(
    output: &str,
    shape: &[usize],
    anchors: usize,
    layout: GridLayout,
) -> Result<(HeadLayout, usize)> {
    let fail = |why: String| no_head(output, shape, &why);
    if anchors == 0 {
        return Err(fail("an anchor grid needs at least one anchor".into()));
    }
    let (height, width, values) = match (layout, shape) {
        (GridLayout::ChannelsFirst, &[1, channels, height, width]) if channels % anchors == 0 => {
            (height, width, channels / anchors)
        }
        (GridLayout::ChannelsLast, &[1, a, height, width, values]) if a == anchors => {
            (height, width, values)
        }
        _ => {
            return Err(fail(format!(
                "expected {} with A = {anchors} anchors",
                match layout {
                    GridLayout::ChannelsFirst => "[1, A·(5 + C), H, W]",
                    GridLayout::ChannelsLast => "[1, A, H, W, 5 + C]",
                }
            )))
        }
    };
    if values <= 5 || height == 0 || width == 0 {
        return Err(fail(format!(
            "{values} values per anchor leave no class scores"
        )));
    }
    let cells = height * width;
    let (anchor_stride, cell_stride, value_stride) = match layout {
        GridLayout::ChannelsFirst => (values * cells, 1, cells),
        GridLayout::ChannelsLast => (values * cells, values, 1),
    };
    let head_layout = HeadLayout {
        candidates: anchors * cells,
        cells,
        grid_width: width,
        anchor_stride,
        cell_stride,
        value_stride,
        first_class: 5,
    };
    Ok((head_layout, values - 5))
}

fn boxes_layout(
    output: &str,
    shape: &[usize],
    layout: BoxesLayout,
    objectness: bool,
) -> Result<(HeadLayout, usize)> {
    let first_class = if objectness { 5 } else { 4 };
    let (candidates, values) = match (layout, shape) {
        (BoxesLayout::ChannelsFirst, &[1, values, candidates]) => (candidates, values),
        (BoxesLayout::ChannelsLast, &[1, candidates, values]) => (candidates, values),
        _ => return Err(no_head(output, shape, "expected [1, K, N] or [1, N, K]")),
    };
    if values <= first_class {
        return Err(no_head(
            output,
            shape,
            &format!("{values} values per box leave no class scores"),
        ));
    }
    let (cell_stride, value_stride) = match layout {
        BoxesLayout::ChannelsFirst => (1, candidates),
        BoxesLayout::ChannelsLast => (values, 1),
    };
    let head_layout = HeadLayout {
        candidates,
        cells: candidates,
        grid_width: 1,
        anchor_stride: 0,
        cell_stride,
        value_stride,
        first_class,
    };
    Ok((head_layout, values - first_class))
}

impl std::fmt::Display for Head {
    /// `'name' [shape]: anchor grid 13×13, 3 anchors, stride 32 (Darknet), 80 classes`, or
    /// `... : boxes, 8400 candidates (channels first), 80 classes`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}' {:?}: ", self.output, self.shape)?;
        match &self.kind {
            HeadKind::AnchorGrid {
                anchors,
                stride,
                decode,
                ..
            } => {
                let rows = self.layout.cells / self.layout.grid_width;
                let formula = match decode {
                    GridDecode::Darknet { .. } => "Darknet",
                    GridDecode::Yolov5 => "YOLOv5",
                };
                write!(
                    f,
                    "anchor grid {rows}×{}, {} anchors, stride {} ({formula})",
                    self.layout.grid_width,
                    anchors.len(),
                    stride[0]
                )?;
            }
            HeadKind::Boxes { objectness, .. } => {
                write!(f, "boxes, {} candidates", self.layout.candidates)?;
                if *objectness {
                    write!(f, " with objectness")?;
                }
            }
        }
        write!(f, ", {} classes", self.classes)
    }
}
