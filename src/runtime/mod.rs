//! Running a [`crate::graph::Graph`]: a [`Plan`] built once per model and input shapes, executed
//! on the GPU backend (wgpu kernels from [`crate::ops`]) or the CPU reference backend.

pub mod cpu;
pub mod gpu;
mod plan;

pub use plan::*;
