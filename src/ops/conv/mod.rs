//! Convolution (ONNX `Conv`, `QLinearConv`, `ConvTranspose`): the one geometry resolver
//! ([`geometry`], any spatial rank, `auto_pad` and `output_shape` resolved), the one f64 reference
//! of each op ([`reference_conv`], [`reference_conv_transpose`], [`reference_qlinear_conv`]), the
//! 2-D launchers' parameters ([`Conv2dParams`], [`ConvTranspose2dParams`]) and the GPU launchers
//! over NCHW tensors.
//!
//! Design: a convolution is a matrix product of the weight, `[M/groups, K]` per group with
//! `K = C/groups·kH·kW`, and the im2col matrix `[K, N·OH·OW]` of the input. The f32 and f16
//! kernels run it on the matmul family's tiled core with the im2col matrix gathered on the fly,
//! never stored (an implicit GEMM, [`mod@f32`], [`mod@f16`]); 1×1 convolutions with stride 1 and no
//! padding take the same program with the gather specialised away (a direct read of x as `[C,
//! H·W]`). Depthwise convolutions, where that product degenerates to one row per group, have a
//! direct kernel in f32 and in int8 ([`depthwise_q8`]); int8 ([`int8`]) is otherwise the same
//! implicit GEMM on packed words with `dot4I8Packed`; the transposed convolution ([`transpose`]) gathers the inputs of each output. A one-group
//! convolution whose weight stays compressed (int8, int4, block-sparse, N:M) runs an explicit
//! im2col in slabs around the weight kernels of its layout ([`im2col`]), which need no conv
//! variant; int8 and int4 weights of any group count have their own A loaders for the implicit
//! GEMM ([`weight_only`]), which read them in place of the f32 weight.
//!
//! ```no_run
//! use kiln::{device::Gpu, ops::conv::{conv2d_f32, Conv2dParams}, ops::Activation};
//! use kiln::tensor::GpuTensor;
//! # fn main() -> kiln::Result<()> {
//! let gpu = Gpu::from_env()?;
//! let x = GpuTensor::upload(&gpu, &[1, 2, 5, 5], &[1.0f32; 50])?;
//! let w = GpuTensor::upload(&gpu, &[4, 2, 3, 3], &[0.5f32; 72])?;
//! let params = Conv2dParams { pads: [1; 4], ..Conv2dParams::default() };
//! let y = conv2d_f32(&gpu, &x, &w, None, &params, Activation::Relu)?;
//! assert_eq!(y.shape(), [1, 4, 5, 5]);
//! # Ok(()) }
//! ```

pub mod depthwise_q8;
pub mod f16;
pub mod f32;
mod gemm;
pub mod geometry;
#[cfg(test)]
mod geometry_tests;
pub mod im2col;
pub mod int8;
mod params;
mod programs;
mod reference;
mod reference_q8;
pub mod transpose;
mod uniform;
pub mod weight_only;

pub use depthwise_q8::{conv2d_q8_depthwise, depthwise_q8_fits, DEPTHWISE_Q8_MAX_TAPS};
pub use f16::{conv2d_f16, conv2d_f16_with_path, reference_conv2d_f16};
pub use f32::{conv2d_f32, conv2d_f32_with_path, ConvPath};
pub use geometry::{AutoPad, ConvGeometry, ConvSpec, TransposeSpec};
pub use im2col::{conv2d_im2col, WeightProduct};
pub use int8::{conv2d_q8, conv2d_q8_with, GpuQ8ConvWeights, Q8ConvEpilogue, QLinearQuant};
pub use params::{Conv2dParams, ConvDims, ConvTranspose2dParams};
pub use programs::*;
pub use reference::{
    reference_conv, reference_conv2d, reference_conv_transpose, reference_conv_transpose2d,
    ConvOperands,
};
pub use reference_q8::{
    qlinear_accumulators, reference_conv2d_q8, reference_qlinear_conv, requantize,
    requantize_multipliers, QLinearOperands, QLinearScales, MAX_Q8_K,
};
pub use transpose::conv_transpose2d_f32;
pub use weight_only::{conv2d_w4, conv2d_w8};
