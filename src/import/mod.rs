//! Model files to [`crate::graph::Graph`]: ONNX (and back out to ONNX), and Darknet `.cfg` +
//! `.weights`.

pub mod darknet;
pub mod onnx;
