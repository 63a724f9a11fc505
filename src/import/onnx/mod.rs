//! ONNX protobuf in (to a [`crate::graph::Graph`]) and out.
