//! The GPU backend: every [`crate::graph::Op`] kiln has a kernel for, launched on a [`crate::device::Gpu`].
