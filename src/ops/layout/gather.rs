//! The affine gather that every layout kernel is (`shaders/layout_gather.wgsl`): output element
//! `o` (a multi-index) reads input position `o[axis]·step[axis] + offset[axis]` on each axis, with
//! one policy for positions outside the input. Transpose, Slice, Split, Pad and Concat only build
//! a [`GatherPlan`]; one kernel, specialised by element size, moves the bits.

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::shape::strides;
use crate::tensor::{DType, GpuTensor};

/// The highest rank the layout kernel handles (`array<vec4<u32>, 2>` in its uniform block).
pub const MAX_RANK: usize = 8;

/// The layout gather: any dtype, one output `u32` word per thread.
pub const LAYOUT_GATHER: ShaderProgram = ShaderProgram {
    name: "layout_gather",
    parts: &[include_str!("../../../shaders/layout_gather.wgsl")],
    needs_f16: false,
};

/// What an output element whose source position falls outside the input holds (`OUT_OF_RANGE`
/// in the shader).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutOfRange {
    /// Cannot happen: every position is inside.
    Never,
    /// These element bits.
    Fill(u32),
    /// The nearest edge element.
    Edge,
    /// The mirror image, edge not repeated.
    Reflect,
    /// Whatever the output already holds (written by another dispatch).
    Keep,
    /// The position modulo the input's extent.
    Wrap,
}

/// One output axis of a gather: where along which input axis it reads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AxisMap {
    /// Output extent.
    pub extent: usize,
    /// Extent of the input axis it reads.
    pub source_extent: usize,
    /// Element stride of that input axis.
    pub source_stride: usize,
    /// Input positions advanced per output position (negative for reversed slices).
    pub step: i64,
    /// Input position of output position 0.
    pub offset: i64,
}

impl AxisMap {
    /// The identity map of an input axis of `extent` elements with stride `stride`.
    pub fn identity(extent: usize, stride: usize) -> Self {
        AxisMap {
            extent,
            source_extent: extent,
            source_stride: stride,
            step: 1,
            offset: 0,
        }
    }
}

/// A gather: the per-axis maps and the out-of-range policy.
#[derive(Clone, Debug)]
pub(crate) struct GatherPlan {
    pub axes: Vec<AxisMap>,
    pub out_of_range: OutOfRange,
}

impl GatherPlan {
    /// Identity maps over the axes of `shape`.
    pub fn identity(shape: &[usize]) -> Self {
        let strides = strides(shape);
        GatherPlan {
            axes: shape
                .iter()
                .zip(strides)
                .map(|(&extent, stride)| AxisMap::identity(extent, stride))
                .collect(),
            out_of_range: OutOfRange::Never,
        }
    }

    /// The output shape.
    pub fn out_shape(&self) -> Vec<usize> {
        self.axes.iter().map(|axis| axis.extent).collect()
    }
}

/// `GatherParams` in `layout_gather.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GatherParams {
    out_shape: [u32; MAX_RANK],
    source_extent: [u32; MAX_RANK],
    source_stride: [u32; MAX_RANK],
    step: [i32; MAX_RANK],
    offset: [i32; MAX_RANK],
    rank: u32,
    out_count: u32,
    first_word: u32,
    word_count: u32,
    fill_bits: u32,
    padding: [u32; 3],
}

fn to_i32(what: &'static str, value: i64) -> Result<i32> {
    i32::try_from(value).map_err(|_| Error::LimitExceeded {
        what,
        requested: value.unsigned_abs(),
        limit: i32::MAX as u64,
    })
}

/// Fails unless `rank` is at most [`MAX_RANK`].
pub(crate) fn check_rank(op: &'static str, rank: usize) -> Result<()> {
    if rank > MAX_RANK {
        return Err(Error::InvalidArgument {
            op,
            detail: format!(
                "rank {rank} exceeds the {MAX_RANK} dimensions the layout kernel handles"
            ),
        });
    }
    Ok(())
}

/// Records the gather `plan` from `input` into `output` (whose shape is the plan's), over the
/// output elements `elements` (a range; the words covering it are written whole).
pub(crate) fn launch_gather(
    gpu: &Gpu,
    input: &GpuTensor,
    output: &GpuTensor,
    plan: &GatherPlan,
    elements: std::ops::Range<usize>,
) -> Result<()> {
    check_rank("layout", plan.axes.len())?;
    // The kernel computes input indices in i32.
    to_i32("layout input elements", input.len() as i64)?;
    let element_bytes = input.dtype().size_bytes();
    if element_bytes > 4 {
        return Err(Error::InvalidArgument {
            op: "layout",
            detail: format!(
                "{} elements are wider than the kernel's 32-bit words",
                input.dtype()
            ),
        });
    }
    let per_word = 4 / element_bytes;
    let first_word = elements.start / per_word;
    let end_word = elements.end.div_ceil(per_word);
    if end_word <= first_word {
        return Ok(());
    }
    let mut params = GatherParams {
        out_shape: [1; MAX_RANK],
        source_extent: [1; MAX_RANK],
        source_stride: [0; MAX_RANK],
        step: [0; MAX_RANK],
        offset: [0; MAX_RANK],
        rank: plan.axes.len() as u32,
        out_count: to_u32("layout output elements", output.len())?,
        first_word: to_u32("layout output words", first_word)?,
        word_count: to_u32("layout output words", end_word - first_word)?,
        fill_bits: match plan.out_of_range {
            OutOfRange::Fill(bits) => bits,
            _ => 0,
        },
        padding: [0; 3],
    };
    for (slot, axis) in plan.axes.iter().enumerate() {
        params.out_shape[slot] = to_u32("layout extent", axis.extent)?;
        params.source_extent[slot] = to_u32("layout extent", axis.source_extent)?;
        params.source_stride[slot] = to_u32("layout stride", axis.source_stride)?;
        params.step[slot] = to_i32("layout step", axis.step)?;
        params.offset[slot] = to_i32("layout offset", axis.offset)?;
    }
    let policy = match plan.out_of_range {
        OutOfRange::Never => 0,
        OutOfRange::Fill(_) => 1,
        OutOfRange::Edge => 2,
        OutOfRange::Reflect => 3,
        OutOfRange::Keep => 4,
        OutOfRange::Wrap => 5,
    };
    let constants = [
        ("ELEMENT_BYTES", element_bytes as f64),
        ("OUT_OF_RANGE", f64::from(policy)),
    ];
    let pipeline = gpu.pipeline(&LAYOUT_GATHER, &constants)?;
    let bindings = [
        (0, Binding::Storage(input.buffer())),
        (1, Binding::Storage(output.buffer())),
        (2, Binding::Uniform(bytemuck::bytes_of(&params))),
    ];
    let grid = grid_for(gpu, end_word - first_word, ELEMENTWISE_WORKGROUP)?;
    gpu.dispatch(&pipeline, &bindings, grid)
}

/// Runs `plan` over all of `input` into a new tensor of the plan's output shape.
pub(crate) fn gather(gpu: &Gpu, input: &GpuTensor, plan: &GatherPlan) -> Result<GpuTensor> {
    let output = GpuTensor::uninit(gpu, &plan.out_shape(), input.dtype())?;
    launch_gather(gpu, input, &output, plan, 0..output.len())?;
    Ok(output)
}

/// The bits of `value` converted to `dtype` (integers saturate, floats round to nearest), as the
/// layout kernel's `fill_bits`.
pub(crate) fn element_bits(dtype: DType, value: f64) -> u32 {
    match dtype {
        DType::F32 => (value as f32).to_bits(),
        DType::F16 => u32::from(half::f16::from_f64(value).to_bits()),
        DType::I32 => value as i32 as u32,
        DType::I8 => u32::from(value as i8 as u8),
        DType::U8 => u32::from(value as u8),
        DType::Bool => u32::from(value != 0.0),
        // Never launched: `launch_gather` rejects elements wider than a word.
        DType::I64 => value as i64 as u32,
    }
}
