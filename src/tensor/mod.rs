//! Tensors: shapes, element types, host tensors and their device copies, and the quantized weight
//! layouts (Q8 per-channel, Q4 group-wise) that the compression pipeline produces.

pub mod bsr;
mod dtype;
pub(crate) mod element;
pub mod nm_sparse;
pub mod q4;
pub mod q8;
pub mod quant;
pub mod serde_repr;
pub mod shape;

pub use dtype::{DType, Element};
pub use q4::{Q4GroupSize, Q4Weights};
pub use q8::{Q8Activations, Q8Scheme, Q8Weights};
mod device_tensor;
pub use device_tensor::{element_count, GpuTensor};
mod host;
pub use host::{HostTensor, TensorData};
