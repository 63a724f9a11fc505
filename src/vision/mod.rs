//! Vision around a detection model: image loading and letterboxing, detection heads (anchor
//! grids, anchor-free), non-maximum suppression and drawing labelled boxes.
