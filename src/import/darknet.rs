//! Darknet `.cfg` + `.weights` (the YOLOv3-era format) to a [`crate::graph::Graph`].
