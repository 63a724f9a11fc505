//! The vision code without a GPU: letterbox round trips, the decode reference on synthetic heads,
//! NMS against a per-class textbook version, class-name parsing, image loading errors, drawing, and a small YOLO-style graph end to end on
//! the CPU backend.

#[path = "vision/decode.rs"]
mod decode;
#[path = "vision/draw.rs"]
mod draw;
#[path = "vision/letterbox.rs"]
mod letterbox;
#[path = "vision/names.rs"]
mod names;
#[path = "vision/nms.rs"]
mod nms;
#[path = "vision/pipeline.rs"]
mod pipeline;
#[path = "vision/synthetic.rs"]
mod synthetic;
#[path = "vision/toy_model.rs"]
mod toy_model;
