//! The pooling launchers: the uniform blocks, grids and override constants of `shaders/pool2d*.wgsl`
//! and `shaders/pool_global.wgsl`.

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::ops::pooling::{nchw, pool2d_output_shape, Pool2dOptions, PoolKind};
use crate::tensor::{DType, GpuTensor};

const POOL2D_WGSL: &str = include_str!("../../../shaders/pool2d.wgsl");

/// 2-D max / average pool over f32, one thread per output element.
pub const POOL2D_F32: ShaderProgram = ShaderProgram {
    name: "pool2d_f32",
    parts: &[
        POOL2D_WGSL,
        include_str!("../../../shaders/pool2d_io_f32.wgsl"),
    ],
    needs_f16: false,
};

/// 2-D max / average pool over f16 packed two per `u32`, one thread per output word (any device).
pub const POOL2D_F16_PACKED: ShaderProgram = ShaderProgram {
    name: "pool2d_f16_packed",
    parts: &[
        POOL2D_WGSL,
        include_str!("../../../shaders/pool2d_io_f16_packed.wgsl"),
    ],
    needs_f16: false,
};

/// 2-D MaxPool over int8 or uint8 (`SIGNED`), packed four per word.
pub const POOL2D_Q8_PACKED: ShaderProgram = ShaderProgram {
    name: "pool2d_q8_packed",
    parts: &[
        POOL2D_WGSL,
        include_str!("../../../shaders/pool2d_io_q8_packed.wgsl"),
        include_str!("../../../shaders/q8_word_output.wgsl"),
    ],
    needs_f16: false,
};

/// Global max / average pool over f32, one workgroup per (n, c) plane.
pub const GLOBAL_POOL_F32: ShaderProgram = ShaderProgram {
    name: "global_pool_f32",
    parts: &[include_str!("../../../shaders/pool_global.wgsl")],
    needs_f16: false,
};

/// `PoolParams` in `pool2d.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PoolParams {
    planes: u32,
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    pad_bottom: u32,
    pad_right: u32,
    dilation_h: u32,
    dilation_w: u32,
    count: u32,
}

/// `GlobalPoolParams` in `pool_global.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GlobalPoolParams {
    planes: u32,
    plane_len: u32,
}

/// Records a 2-D pool of `kind` over `input` (f32 or f16, or for MaxPool int8 or uint8, checked
/// by the caller).
pub(super) fn pool2d(
    gpu: &Gpu,
    kind: PoolKind,
    input: &GpuTensor,
    options: &Pool2dOptions,
) -> Result<GpuTensor> {
    let output_shape = pool2d_output_shape(input.shape(), options)?;
    let shape = nchw("pool2d", input.shape())?;
    pool2d_viewed(gpu, kind, input, shape, options, &output_shape)
}

/// GlobalMaxPool over an int8 or uint8 tensor of rank ≥ 3 (checked by the caller): each (n, c)
/// plane of `L` elements viewed as an `L × 1` image and pooled by one `L × 1` MaxPool window.
pub(super) fn global_max_pool_q8(gpu: &Gpu, input: &GpuTensor) -> Result<GpuTensor> {
    let (shape, output_shape, plane_len) = global_shapes("global_max_pool", input.shape())?;
    let options = Pool2dOptions {
        kernel: [plane_len, 1],
        ..Pool2dOptions::square(1, 1)
    };
    let viewed = [shape[0], shape[1], plane_len, 1];
    pool2d_viewed(gpu, PoolKind::Max, input, viewed, &options, &output_shape)
}

/// `pool2d` of `input` viewed as the NCHW `shape` (same element count), written as `output_shape`.
fn pool2d_viewed(
    gpu: &Gpu,
    kind: PoolKind,
    input: &GpuTensor,
    [n, c, in_h, in_w]: [usize; 4],
    options: &Pool2dOptions,
    output_shape: &[usize],
) -> Result<GpuTensor> {
    let [out_h, out_w] = options.output_size([in_h, in_w])?;
    let output = GpuTensor::uninit(gpu, output_shape, input.dtype())?;
    let count = output.len();
    to_u32("pool2d input elements", input.len())?;
    // The kernel's window arithmetic is in i32.
    let window_end = |axis: usize| options.kernel[axis] * options.dilations[axis];
    i32::try_from(in_h.max(in_w) + window_end(0).max(window_end(1)) * 2).map_err(|_| {
        Error::LimitExceeded {
            what: "pool2d spatial extent",
            requested: in_h.max(in_w) as u64,
            limit: i32::MAX as u64,
        }
    })?;
    let params = PoolParams {
        planes: to_u32("pool2d planes", n * c)?,
        in_h: to_u32("pool2d height", in_h)?,
        in_w: to_u32("pool2d width", in_w)?,
        out_h: to_u32("pool2d output height", out_h)?,
        out_w: to_u32("pool2d output width", out_w)?,
        kernel_h: to_u32("pool2d kernel", options.kernel[0])?,
        kernel_w: to_u32("pool2d kernel", options.kernel[1])?,
        stride_h: to_u32("pool2d stride", options.strides[0])?,
        stride_w: to_u32("pool2d stride", options.strides[1])?,
        pad_top: to_u32("pool2d pad", options.pads[0])?,
        pad_left: to_u32("pool2d pad", options.pads[1])?,
        pad_bottom: to_u32("pool2d pad", options.pads[2])?,
        pad_right: to_u32("pool2d pad", options.pads[3])?,
        dilation_h: to_u32("pool2d dilation", options.dilations[0])?,
        dilation_w: to_u32("pool2d dilation", options.dilations[1])?,
        count: to_u32("pool2d output elements", count)?,
    };
    let (program, threads) = match input.dtype() {
        DType::F16 => (&POOL2D_F16_PACKED, count.div_ceil(2)),
        DType::I8 | DType::U8 => (&POOL2D_Q8_PACKED, count.div_ceil(4)),
        _ => (&POOL2D_F32, count),
    };
    let mut constants = vec![
        ("IS_MAX", f64::from(u8::from(kind == PoolKind::Max))),
        (
            "COUNT_INCLUDE_PAD",
            f64::from(u8::from(options.count_include_pad)),
        ),
    ];
    if matches!(input.dtype(), DType::I8 | DType::U8) {
        constants.push(("SIGNED", f64::from(u8::from(input.dtype() == DType::I8))));
    }
    let pipeline = gpu.pipeline(program, &constants)?;
    let bindings = [
        (0, Binding::Storage(input.buffer())),
        (1, Binding::Storage(output.buffer())),
        (2, Binding::Uniform(bytemuck::bytes_of(&params))),
    ];
    let grid = grid_for(gpu, threads, ELEMENTWISE_WORKGROUP)?;
    gpu.dispatch(&pipeline, &bindings, grid)?;
    Ok(output)
}

/// Records a global pool of `kind` over an f32 tensor of rank ≥ 3.
pub(super) fn global_pool(gpu: &Gpu, kind: PoolKind, input: &GpuTensor) -> Result<GpuTensor> {
    let op = match kind {
        PoolKind::Max => "global_max_pool",
        PoolKind::Average => "global_average_pool",
    };
    input.expect_dtype(op, DType::F32)?;
    let (shape, output_shape, plane_len) = global_shapes(op, input.shape())?;
    let planes = shape[0] * shape[1];
    let output = GpuTensor::uninit(gpu, &output_shape, DType::F32)?;
    to_u32("global pool input elements", input.len())?;
    let params = GlobalPoolParams {
        planes: to_u32("global pool planes", planes)?,
        plane_len: to_u32("global pool plane size", plane_len)?,
    };
    let constants = [("IS_MAX", f64::from(u8::from(kind == PoolKind::Max)))];
    let pipeline = gpu.pipeline(&GLOBAL_POOL_F32, &constants)?;
    let bindings = [
        (0, Binding::Storage(input.buffer())),
        (1, Binding::Storage(output.buffer())),
        (2, Binding::Uniform(bytemuck::bytes_of(&params))),
    ];
    gpu.dispatch(&pipeline, &bindings, grid_for(gpu, planes, 1)?)?;
    Ok(output)
}

/// For a global pool of `shape` (`[N, C, spatial...]`, rank ≥ 3, non-empty planes): `shape`, the
/// output shape `[N, C, 1, ...]` and the plane length.
pub(super) fn global_shapes(
    op: &'static str,
    shape: &[usize],
) -> Result<(Vec<usize>, Vec<usize>, usize)> {
    if shape.len() < 3 {
        return Err(Error::ShapeMismatch {
            op,
            detail: format!("expected [N, C, spatial...] of rank at least 3, got {shape:?}"),
        });
    }
    let plane_len: usize = shape[2..].iter().product();
    if plane_len == 0 && shape[0] * shape[1] > 0 {
        return Err(Error::ShapeMismatch {
            op,
            detail: format!("cannot pool the empty planes of shape {shape:?}"),
        });
    }
    let mut output_shape = vec![1; shape.len()];
    output_shape[..2].copy_from_slice(&shape[..2]);
    Ok((shape.to_vec(), output_shape, plane_len))
}
