//! ONNX Resize over the H and W of an NCHW f32 tensor (int8 and uint8 with nearest): nearest
//! (every `nearest_mode`) and bilinear, under every `coordinate_transformation_mode` except `tf_crop_and_resize`, from scales
//! or sizes. The rules are in [`coordinates`]; [`reference_resize_axes`], the one reference (any
//! rank, any axes), applies them one axis at a time in f64, and [`reference_resize`] is its NCHW
//! form. The launcher builds a table of taps per axis with the same rules (so which inputs are read
//! is exact, with no f32 division on the GPU deciding a rounding tie) and the kernel gathers and
//! blends: nearest is exact, bilinear within [`LINEAR_TOLERANCE`].
//!
//! ```no_run
//! use kiln::{device::Gpu, tensor::GpuTensor};
//! use kiln::ops::resize::{resize, ResizeMode, ResizeOptions, ResizeTarget};
//! # fn main() -> kiln::Result<()> {
//! let gpu = Gpu::from_env()?;
//! let x = GpuTensor::upload(&gpu, &[1, 1, 2, 2], &[1.0f32, 2.0, 3.0, 4.0])?;
//! let options = ResizeOptions { mode: ResizeMode::Linear, ..ResizeOptions::scales(2.0, 2.0) };
//! let y = resize(&gpu, &x, &options)?;
//! assert_eq!(&y.read::<f32>(&gpu)?[..4], &[1.0, 1.25, 1.75, 2.0]);
//! # Ok(()) }
//! ```

pub mod coordinates;
mod reference;

pub use coordinates::{CoordinateMode, NearestMode, ResizeMode, ResizeTarget};
pub use reference::{reference_resize, reference_resize_axes, AxisResize};

use coordinates::{axis_geometry, axis_taps};

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::{DType, GpuTensor};

/// Resize over f32, one thread per output element.
pub const RESIZE_F32: ShaderProgram = ShaderProgram {
    name: "resize_f32",
    parts: &[include_str!("../../../shaders/resize.wgsl")],
    needs_f16: false,
};

/// Nearest Resize over int8 or uint8 packed four per word, one thread per output word.
pub const RESIZE_NEAREST_Q8: ShaderProgram = ShaderProgram {
    name: "resize_nearest_q8",
    parts: &[
        include_str!("../../../shaders/resize_nearest_q8.wgsl"),
        include_str!("../../../shaders/q8_word_output.wgsl"),
    ],
    needs_f16: false,
};

/// The shader programs of the resize family.
pub const PROGRAMS: &[&ShaderProgram] = &[&RESIZE_F32, &RESIZE_NEAREST_Q8];

/// The absolute tolerance of bilinear output, relative to the largest input magnitude: each of
/// the two 1-D blends rounds its weights (2⁻²⁴ relative), two products and a sum, at most 4 ulp
/// of the largest neighbour; two stages give 8 ulp; doubled for margin, 16 · 2⁻²⁴ = 2⁻²⁰.
pub const LINEAR_TOLERANCE: f32 = 1.0 / (1 << 20) as f32;

/// Resize's attributes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResizeOptions {
    /// Nearest (with its rounding) or linear.
    pub mode: ResizeMode,
    /// `coordinate_transformation_mode`.
    pub coordinates: CoordinateMode,
    /// Scales or sizes of H and W.
    pub target: ResizeTarget,
}

impl ResizeOptions {
    /// ONNX's defaults (nearest, round_prefer_floor, half_pixel) with scales for H and W.
    pub fn scales(height: f32, width: f32) -> Self {
        ResizeOptions {
            mode: ResizeMode::Nearest(NearestMode::default()),
            coordinates: CoordinateMode::default(),
            target: ResizeTarget::Scales([height, width]),
        }
    }

    /// ONNX's defaults with output sizes for H and W.
    pub fn sizes(height: usize, width: usize) -> Self {
        ResizeOptions {
            target: ResizeTarget::Sizes([height, width]),
            ..Self::scales(1.0, 1.0)
        }
    }
}

/// `ResizeParams` in `resize.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ResizeParams {
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    count: u32,
}

/// Resize of an NCHW tensor over H and W: f32, or with nearest mode int8 or uint8 (copied
/// exactly).
pub fn resize(gpu: &Gpu, input: &GpuTensor, options: &ResizeOptions) -> Result<GpuTensor> {
    let linear = matches!(options.mode, ResizeMode::Linear);
    let bytes = matches!(input.dtype(), DType::I8 | DType::U8);
    if !bytes || linear {
        input.expect_dtype("resize", DType::F32)?;
    }
    let [n, c, in_h, in_w] =
        <[usize; 4]>::try_from(input.shape()).map_err(|_| Error::ShapeMismatch {
            op: "resize",
            detail: format!("expected an NCHW tensor, got shape {:?}", input.shape()),
        })?;
    let (out_h, scale_h) = axis_geometry(options.target, 0, in_h)?;
    let (out_w, scale_w) = axis_geometry(options.target, 1, in_w)?;
    let output = GpuTensor::uninit(gpu, &[n, c, out_h, out_w], input.dtype())?;
    if output.is_empty() {
        return Ok(output);
    }
    let mut taps = Vec::with_capacity(3 * (out_h + out_w));
    for tap in axis_taps(options.mode, options.coordinates, scale_h, in_h, out_h)
        .into_iter()
        .chain(axis_taps(
            options.mode,
            options.coordinates,
            scale_w,
            in_w,
            out_w,
        ))
    {
        taps.extend([
            tap.first as u32,
            tap.second as u32,
            (tap.weight as f32).to_bits(),
        ]);
    }
    let taps = gpu.upload_bytes(bytemuck::cast_slice(&taps))?;
    to_u32("resize input elements", input.len())?;
    let params = ResizeParams {
        in_h: to_u32("resize height", in_h)?,
        in_w: to_u32("resize width", in_w)?,
        out_h: to_u32("resize output height", out_h)?,
        out_w: to_u32("resize output width", out_w)?,
        count: to_u32("resize output elements", output.len())?,
    };
    let (pipeline, threads) = if bytes {
        (
            gpu.pipeline(&RESIZE_NEAREST_Q8, &[])?,
            output.len().div_ceil(4),
        )
    } else {
        let linear = [("LINEAR", f64::from(u8::from(linear)))];
        (gpu.pipeline(&RESIZE_F32, &linear)?, output.len())
    };
    let bindings = [
        (0, Binding::Storage(input.buffer())),
        (1, Binding::Storage(&taps)),
        (2, Binding::Storage(output.buffer())),
        (3, Binding::Uniform(bytemuck::bytes_of(&params))),
    ];
    let grid = grid_for(gpu, threads, ELEMENTWISE_WORKGROUP)?;
    gpu.dispatch(&pipeline, &bindings, grid)?;
    Ok(output)
}
