//! The CPU reference backend: every [`crate::graph::Op`] evaluated on host tensors, plainly.
