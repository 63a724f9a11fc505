//! Cast, Not, the comparisons and Gather on the GPU backend ([`crate::ops::convert`],
//! [`crate::ops::indexing`]). Gather's indices are read from the node's constant when it is an
//! initializer (i32 or i64, range-checked before launch), else from an i32 device tensor.

use crate::error::Result;
use crate::graph::Op;
use crate::ops::convert::{self, GPU_CAST_DTYPES, GPU_COMPARE_DTYPES};
use crate::ops::indexing::{self, GatherIndices};
use crate::runtime::gpu::args::Args;
use crate::runtime::gpu::layout::LAYOUT_DTYPES;
use crate::tensor::{DType, GpuTensor};

/// Runs the op `args.node` holds when it belongs here; `None` otherwise.
pub(super) fn eval(args: &Args<'_>) -> Option<Result<GpuTensor>> {
    let gpu = args.gpu;
    let result = match &args.node.op {
        Op::Cast { to } => args.check_dtype(*to, &GPU_CAST_DTYPES).and_then(|()| {
            let x = args.tensor_of(0, &GPU_CAST_DTYPES)?;
            convert::cast(gpu, x, *to)
        }),
        Op::Not => args
            .tensor_of(0, &[DType::U8])
            .and_then(|x| convert::not(gpu, x)),
        Op::Compare(op) => args.tensor_of(0, &GPU_COMPARE_DTYPES).and_then(|a| {
            let b = args.tensor_of(1, &[a.dtype()])?;
            convert::compare(gpu, *op, a, b)
        }),
        Op::Gather { axis } => args.tensor_of(0, &LAYOUT_DTYPES).and_then(|data| {
            let indices = match args.values().get(1).copied().flatten() {
                Some(host) => GatherIndices::Constant(host),
                None => GatherIndices::Device(args.tensor_of(1, &[DType::I32])?),
            };
            indexing::gather(gpu, data, indices, *axis)
        }),
        _ => return None,
    };
    Some(result)
}
