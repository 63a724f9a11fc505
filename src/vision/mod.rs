//! Vision around a detection model: image loading and letterboxing, detection heads (anchor
//! grids, anchor-free), decoding on the GPU against a CPU reference, non-maximum suppression,
//! drawing labelled boxes and the JSON report, and [`Detector`], which runs them in order.

pub mod bench;
mod boxes;
pub mod decode;
pub mod decode_gpu;
pub mod draw;
pub mod head;
pub mod head_choice;
pub mod image;
pub mod model;
pub mod names;
pub mod nms;
pub mod pipeline;
pub mod report;
pub mod stream;

pub use bench::StageMedians;
pub use boxes::{BoundingBox, Detection};
pub use decode::decode_reference;
pub use decode_gpu::{launch_decode, GpuCandidates};
pub use draw::draw_detections;
pub use head::{BoxesLayout, GridDecode, GridLayout, Head, HeadKind, HeadLayout};
pub use head_choice::{detect_heads, parse_anchors, HeadChoice, HeadOptions};
pub use image::{load_image, load_image_capped, preprocess, Letterbox, DEFAULT_MAX_IMAGE_PIXELS};
pub use model::{load_detection_model, DetectionModel, ModelOptions};
pub use names::ClassNames;
pub use nms::{non_max_suppression, NmsOptions};
pub use pipeline::{DecodeDevice, Detector, DetectorOptions, StageTimes};
pub use report::{detections_json, write_detections_json};
pub use stream::{for_each_image, StreamReport};

use crate::device::ShaderProgram;

/// The shader programs of the vision code.
pub const PROGRAMS: &[&ShaderProgram] = &[&decode_gpu::DETECT_DECODE];
