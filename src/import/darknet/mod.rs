//! Darknet `.cfg` + `.weights` (the YOLOv3-era format) to a [`crate::graph::Graph`], the same IR the
//! ONNX loader builds, so the passes, the runtime and the ONNX writer treat both alike.
//!
//! Sections and what they become (darknet's own semantics, from its `parser.c` and layer files):
//! - `[net]`: the input `[batch, channels, height, width]`, named `input` (batch symbolic).
//! - `[convolutional]`: Conv (`pad=1` means `size/2` on every side, else `padding`; `groups`),
//!   then with `batch_normalize=1` a BatchNormalization whose bias is darknet's `biases` (the conv
//!   then has none) and whose epsilon is [`BATCH_NORM_EPSILON`], then the activation: `linear`,
//!   `leaky` (slope 0.1), `logistic`, `relu`, `tanh`, `relu6`, `swish` (Sigmoid·x) and `mish`
//!   (x·tanh(softplus x)), all as standard ONNX ops.
//! - `[maxpool]`: MaxPool. Darknet pads `padding` (default `size - 1`) in total and starts each
//!   window at `-padding/2`, so the pads are `padding/2` before and the rest after: the
//!   `size=2 stride=1` pool keeps the extent (`out = in`), its extra row and column at the end.
//! - `[upsample]`: Resize, nearest (floor) with asymmetric coordinates: `out[y] = in[y / stride]`.
//! - `[route]`: the listed layers (negative indices count back from this one) concatenated on
//!   channels; with `groups`/`group_id` each input is first sliced to its `group_id`-th channel group.
//! - `[shortcut]`: Add of the previous layer and `from`, then the activation (default linear).
//! - `[yolo]`: no node; the previous layer's raw output becomes a graph output, described by a
//!   [`YoloHead`]. Decoding (sigmoid, exp, anchors, NMS) is `crate::vision`'s job.
//!
//! Anything else is an error: unknown sections and malformed values are [`Error::InvalidModel`]
//! naming the section index and line, darknet features kiln lacks are [`Error::Unsupported`], and
//! the weights must be exactly as long as the cfg's layers need.
//!
//! ```no_run
//! use std::path::Path;
//! # fn main() -> kiln::Result<()> {
//! let model = kiln::import::darknet::load_darknet(
//!     Path::new("models/yolov3-tiny.cfg"),
//!     Path::new("models/yolov3-tiny.weights"),
//! )?;
//! assert_eq!(model.input, [3, 416, 416]);
//! for head in &model.heads {
//!     println!("{}: stride {}, anchors {:?}", head.output, head.stride, head.anchors);
//! }
//! # Ok(()) }
//! ```

mod cfg;
mod conv;
mod head;
mod layers;
mod routes;
mod weights;

use crate::error::{Error, Result};
use crate::graph::Graph;
use std::path::Path;

/// Darknet's batch-norm epsilon, added to the variance: its GPU kernels (on which published models
/// were trained and evaluated) and AlexeyAB's fork compute `(x - mean) / sqrt(var + .00001f)`.
/// pjreddie's CPU path divides by `sqrt(var) + .000001f` instead, which differs by under 0.1% for
/// variances above 1e-4 and cannot be written as an ONNX BatchNormalization.
pub const BATCH_NORM_EPSILON: f32 = 0.00001;

/// Darknet's leaky ReLU slope (`leaky_activate`: `x > 0 ? x : .1f * x`).
pub const LEAKY_SLOPE: f32 = 0.1;

/// A Darknet model read into kiln's IR.
#[derive(Clone, Debug, PartialEq)]
pub struct DarknetModel {
    /// The network: one f32 input named `input` of shape `[batch, C, H, W]` (batch symbolic), and
    /// one graph output per YOLO head, in cfg order.
    pub graph: Graph,
    /// The detection heads, in cfg order (the same order as `graph.outputs`).
    pub heads: Vec<YoloHead>,
    /// The `[net]` input `[channels, height, width]` the model was built for.
    pub input: [usize; 3],
}

/// One `[yolo]` head: where its raw output is and how to decode it.
///
/// The output has shape `[N, A·(5 + classes), H, W]` with `A = anchors.len()` and the grid
/// `H × W = input / stride`. Anchor `a` owns channels `a·(5 + classes) ..`, holding
/// `tx, ty, tw, th, objectness, class scores…`, all raw (no activation applied). Darknet decodes
/// the cell at row `i`, column `j` as, in input pixels:
/// `x = (j + sigmoid(tx)·scale_x_y − (scale_x_y − 1)/2)·stride`, likewise `y` from `i` and `ty`,
/// `w = exp(tw)·anchors[a][0]`, `h = exp(th)·anchors[a][1]`, `objectness = sigmoid(.)`, each class
/// probability `sigmoid(class score)·objectness`.
#[derive(Clone, Debug, PartialEq)]
pub struct YoloHead {
    /// The graph output holding the head's raw values.
    pub output: String,
    /// `[width, height]` of each anchor in input pixels: the `mask`-selected ones, in channel order.
    pub anchors: Vec<[f32; 2]>,
    /// Number of classes.
    pub classes: usize,
    /// Input pixels per grid cell (the same on both axes).
    pub stride: usize,
    /// Darknet's `scale_x_y` (1 unless the cfg sets it).
    pub scale_x_y: f32,
}

/// Reads a Darknet model from its `.cfg` and `.weights` files; the graph is named after the cfg.
pub fn load_darknet(cfg: &Path, weights: &Path) -> Result<DarknetModel> {
    let cfg_text = std::fs::read_to_string(cfg).map_err(|error| Error::io(cfg, error))?;
    let weight_bytes = std::fs::read(weights).map_err(|error| Error::io(weights, error))?;
    let mut model = parse_darknet(&cfg_text, &weight_bytes)?;
    if let Some(stem) = cfg.file_stem() {
        model.graph.name = stem.to_string_lossy().into_owned();
    }
    Ok(model)
}

/// Builds a Darknet model from the text of its `.cfg` and the bytes of its `.weights`.
pub fn parse_darknet(cfg_text: &str, weights: &[u8]) -> Result<DarknetModel> {
    let sections = cfg::parse_cfg(cfg_text)?;
    let reader = weights::WeightReader::new(weights)?;
    layers::build(&sections, reader)
}
