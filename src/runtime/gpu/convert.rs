//! Cast, Not, the comparisons and Gather on the GPU backend ([`crate::ops::convert`],
//! [`crate::ops::indexing`]). Gather's indices are read from the node's constant when it is an
//! initializer (i32 or i64, range-checked before launch), else from an i32 device tensor
//! (range-checked by the kernel, an error at the next readback).

use crate::error::Result;
use crate::ops::convert::{self, CompareOp, GPU_CAST_DTYPES, GPU_COMPARE_DTYPES};
use crate::ops::indexing::{self, GatherIndices};
use crate::runtime::gpu::args::Args;
use crate::runtime::gpu::layout::LAYOUT_DTYPES;
use crate::tensor::{DType, GpuTensor};

/// Cast to `to` (f32, f16, i32, i8, u8, bool).
pub(super) fn cast(args: &Args<'_>, to: DType) -> Result<GpuTensor> {
    args.check_dtype(to, &GPU_CAST_DTYPES)?;
    convert::cast(args.gpu, args.tensor_of(0, &GPU_CAST_DTYPES)?, to)
}

/// Not of a bool (u8) tensor.
pub(super) fn not(args: &Args<'_>) -> Result<GpuTensor> {
    convert::not(args.gpu, args.tensor_of(0, &[DType::U8])?)
}

/// A broadcast comparison of two f32 or two i32 tensors.
pub(super) fn compare(args: &Args<'_>, op: CompareOp) -> Result<GpuTensor> {
    let a = args.tensor_of(0, &GPU_COMPARE_DTYPES)?;
    let b = args.tensor_of(1, &[a.dtype()])?;
    convert::compare(args.gpu, op, a, b)
}

/// Gather along `axis`, indices from the host when constant, else an i32 device tensor.
pub(super) fn gather(args: &Args<'_>, axis: i64) -> Result<GpuTensor> {
    let data = args.tensor_of(0, &LAYOUT_DTYPES)?;
    let indices = match args.values().get(1).copied().flatten() {
        Some(host) => GatherIndices::Constant(host),
        None => GatherIndices::Device(args.tensor_of(1, &[DType::I32])?),
    };
    indexing::gather(args.gpu, data, indices, axis, &args.node.location())
}
