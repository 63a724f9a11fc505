//! Layout (data-movement) ops for every dtype: Transpose, Slice, Split, Concat and Pad run one
//! GPU kernel, an affine gather (`shaders/layout_gather.wgsl`) that moves raw element bits a
//! whole output word per thread, so f16 and 8-bit tensors whose rows start mid-word never race;
//! Reshape, Flatten, Squeeze and Unsqueeze ([`reshape`](reshape::reshape) and friends) only
//! relabel the buffer. Arguments follow ONNX ([`spec`]); the CPU references in
//! [`reference`](mod@reference) are plain index loops, and the GPU results must equal them bit
//! for bit. Ranks up to [`MAX_RANK`].
//!
//! ```no_run
//! use kiln::{device::Gpu, ops::layout::transpose, tensor::GpuTensor};
//! # fn main() -> kiln::Result<()> {
//! let gpu = Gpu::from_env()?;
//! let x = GpuTensor::upload(&gpu, &[2, 3], &[1i8, 2, 3, 4, 5, 6])?;
//! let y = transpose(&gpu, &x, Some(&[1, 0]))?;
//! assert_eq!(y.read::<i8>(&gpu)?, vec![1, 4, 2, 5, 3, 6]);
//! # Ok(()) }
//! ```

mod gather;
pub mod reference;
pub mod reshape;
pub mod spec;

pub use gather::{LAYOUT_GATHER, MAX_RANK};
pub use reference::{reference_concat, reference_pad, reference_slice, reference_transpose};
pub use reshape::{
    flatten, flatten_shape, reshape, reshape_shape, squeeze, squeeze_shape, unsqueeze,
    unsqueeze_shape,
};
pub use spec::{
    check_split, concat_shape, resolve_pads, resolve_perm, resolve_slice, PadMode, ResolvedPads,
    SliceAxis,
};

use gather::{check_rank, element_bits, launch_gather, AxisMap, GatherPlan, OutOfRange};

use crate::device::{Gpu, ShaderProgram};
use crate::error::Result;
use crate::tensor::shape::strides;
use crate::tensor::GpuTensor;

/// The shader programs of the layout family.
pub const PROGRAMS: &[&ShaderProgram] = &[&LAYOUT_GATHER];

/// Transpose: output axis `j` is input axis `perm[j]` (`None` reverses the axes).
pub fn transpose(gpu: &Gpu, input: &GpuTensor, perm: Option<&[usize]>) -> Result<GpuTensor> {
    let shape = input.shape();
    check_rank("transpose", shape.len())?;
    let perm = resolve_perm(shape.len(), perm)?;
    let in_strides = strides(shape);
    let plan = GatherPlan {
        axes: perm
            .iter()
            .map(|&axis| AxisMap::identity(shape[axis], in_strides[axis]))
            .collect(),
        out_of_range: OutOfRange::Never,
    };
    gather::gather(gpu, input, &plan)
}

/// Slice per ONNX ([`resolve_slice`]): negative indices count from the end, out-of-range ones
/// are clamped, negative steps walk backwards.
pub fn slice(
    gpu: &Gpu,
    input: &GpuTensor,
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<GpuTensor> {
    check_rank("slice", input.shape().len())?;
    let resolved = resolve_slice(input.shape(), starts, ends, axes, steps)?;
    gather::gather(gpu, input, &slice_plan(input.shape(), &resolved))
}

fn slice_plan(shape: &[usize], axes: &[SliceAxis]) -> GatherPlan {
    GatherPlan {
        axes: axes
            .iter()
            .zip(shape.iter().zip(strides(shape)))
            .map(|(axis, (&extent, stride))| AxisMap {
                extent: axis.count,
                source_extent: extent,
                source_stride: stride,
                step: axis.step,
                offset: axis.start,
            })
            .collect(),
        out_of_range: OutOfRange::Never,
    }
}

/// `input` broadcast to `shape` (numpy rules; `shape` is already the broadcast result, its rank
/// at least the input's): one gather that reads each growing axis of extent 1 at position 0
/// (step 0), so its cost is the output's size, never one dispatch per copy.
pub fn broadcast(gpu: &Gpu, input: &GpuTensor, shape: &[usize]) -> Result<GpuTensor> {
    check_rank("broadcast", shape.len())?;
    let mismatch = || crate::Error::ShapeMismatch {
        op: "broadcast",
        detail: format!("{:?} does not broadcast to {shape:?}", input.shape()),
    };
    let lead = shape
        .len()
        .checked_sub(input.shape().len())
        .ok_or_else(mismatch)?;
    let mut aligned = vec![1; lead];
    aligned.extend_from_slice(input.shape());
    let axes = shape
        .iter()
        .zip(aligned.iter().zip(strides(&aligned)))
        .map(|(&extent, (&source_extent, stride))| match source_extent {
            _ if source_extent == extent => Ok(AxisMap::identity(extent, stride)),
            1 => Ok(AxisMap {
                extent,
                source_extent,
                source_stride: stride,
                step: 0,
                offset: 0,
            }),
            _ => Err(mismatch()),
        })
        .collect::<Result<Vec<_>>>()?;
    let plan = GatherPlan {
        axes,
        out_of_range: OutOfRange::Never,
    };
    gather::gather(gpu, input, &plan)
}

/// Split along `axis` into pieces of `sizes` (which must add up to the axis's extent).
pub fn split(gpu: &Gpu, input: &GpuTensor, axis: i64, sizes: &[usize]) -> Result<Vec<GpuTensor>> {
    check_rank("split", input.shape().len())?;
    let axis = check_split(input.shape(), axis, sizes)?;
    let mut start = 0;
    let mut pieces = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let mut plan = GatherPlan::identity(input.shape());
        plan.axes[axis].extent = size;
        plan.axes[axis].offset = start as i64;
        pieces.push(gather::gather(gpu, input, &plan)?);
        start += size;
    }
    Ok(pieces)
}

/// Concat along `axis` (negative counts from the end): one gather per input, each writing the
/// output words its elements touch and keeping the bits of the others' elements there.
pub fn concat(gpu: &Gpu, inputs: &[&GpuTensor], axis: i64) -> Result<GpuTensor> {
    let shapes: Vec<&[usize]> = inputs.iter().map(|input| input.shape()).collect();
    let (axis, out_shape) = concat_shape(&shapes, axis)?;
    check_rank("concat", out_shape.len())?;
    let dtype = inputs[0].dtype();
    for input in inputs {
        input.expect_dtype("concat", dtype)?;
    }
    let output = GpuTensor::uninit(gpu, &out_shape, dtype)?;
    let inner: usize = out_shape[axis + 1..].iter().product();
    let outer: usize = out_shape[..axis].iter().product();
    let total = out_shape[axis];
    let mut offset = 0;
    for input in inputs {
        let extent = input.shape()[axis];
        if input.is_empty() {
            offset += extent;
            continue;
        }
        let in_strides = strides(input.shape());
        let mut plan = GatherPlan {
            axes: out_shape
                .iter()
                .zip(&in_strides)
                .map(|(&dim, &stride)| AxisMap::identity(dim, stride))
                .collect(),
            out_of_range: OutOfRange::Keep,
        };
        plan.axes[axis].source_extent = extent;
        plan.axes[axis].offset = -(offset as i64);
        let first = offset * inner;
        let end = (outer - 1) * total * inner + (offset + extent) * inner;
        launch_gather(gpu, input, &output, &plan, first..end)?;
        offset += extent;
    }
    Ok(output)
}

/// Pad per ONNX: `pads` holds every axis's begin, then every axis's end (negative crops);
/// [`PadMode`] says what the border holds.
pub fn pad(gpu: &Gpu, input: &GpuTensor, pads: &[i64], mode: PadMode) -> Result<GpuTensor> {
    check_rank("pad", input.shape().len())?;
    let ResolvedPads { pairs, out_shape } = resolve_pads(input.shape(), pads, mode)?;
    let in_strides = strides(input.shape());
    let plan = GatherPlan {
        axes: (0..out_shape.len())
            .map(|axis| AxisMap {
                extent: out_shape[axis],
                source_extent: input.shape()[axis],
                source_stride: in_strides[axis],
                step: 1,
                offset: -pairs[axis].0,
            })
            .collect(),
        out_of_range: match mode {
            PadMode::Constant(value) => OutOfRange::Fill(element_bits(input.dtype(), value)),
            PadMode::Reflect => OutOfRange::Reflect,
            PadMode::Edge => OutOfRange::Edge,
            PadMode::Wrap => OutOfRange::Wrap,
        },
    };
    gather::gather(gpu, input, &plan)
}
