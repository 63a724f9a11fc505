//! kiln: compress neural networks and run them fast on GPUs through wgpu.
//!
//! ```no_run
//! use kiln::{device::Gpu, ops::matmul::{f32::matmul_f32, MatmulOptions}, tensor::GpuTensor};
//! # fn main() -> kiln::Result<()> {
//! let gpu = Gpu::from_env()?; // KILN_BACKEND / KILN_ADAPTER choose the device
//! let a = GpuTensor::upload(&gpu, &[2, 3], &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])?;
//! let b = GpuTensor::upload(&gpu, &[3, 1], &[1.0f32, 1.0, 1.0])?;
//! let c = matmul_f32(&gpu, &a, &b, None, &MatmulOptions::default())?;
//! assert_eq!(c.read::<f32>(&gpu)?, vec![6.0, 15.0]);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod bench;
pub mod check;
pub mod device;
pub mod error;
pub mod format;
pub mod graph;
pub mod import;
pub mod io;
pub mod limits;
pub mod ops;
pub mod runtime;
pub mod selfcheck;
#[cfg(test)]
mod shader_tests;
pub mod tensor;
pub mod vision;

pub use error::{Error, Result};
