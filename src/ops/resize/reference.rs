//! The Resize reference: every output pixel computed from the spec's formula in f64 — the source
//! coordinate of its row and column, then the nearest element or the bilinear blend (first along
//! W, then along H, as ONNX's reference interpolates the innermost axis first).

use crate::error::Result;
use crate::ops::resize::coordinates::{
    axis_geometry, nearest_index, source_coordinate, ResizeMode,
};
use crate::ops::resize::ResizeOptions;

/// Resize of the NCHW f32 tensor `input` (shape `shape`) over H and W; returns the output shape
/// and its row-major values.
pub fn reference_resize(
    input: &[f32],
    shape: [usize; 4],
    options: &ResizeOptions,
) -> Result<([usize; 4], Vec<f32>)> {
    let [n, c, in_h, in_w] = shape;
    let (out_h, scale_h) = axis_geometry(options.target, 0, in_h)?;
    let (out_w, scale_w) = axis_geometry(options.target, 1, in_w)?;
    let mut output = Vec::with_capacity(n * c * out_h * out_w);
    for plane in input.chunks(in_h * in_w).take(n * c) {
        let at = |y: usize, x: usize| f64::from(plane[y * in_w + x]);
        for oy in 0..out_h {
            let y = source_coordinate(options.coordinates, oy, scale_h, in_h, out_h);
            for ox in 0..out_w {
                let x = source_coordinate(options.coordinates, ox, scale_w, in_w, out_w);
                let value = match options.mode {
                    ResizeMode::Nearest(rounding) => at(
                        nearest_index(rounding, y, in_h),
                        nearest_index(rounding, x, in_w),
                    ),
                    ResizeMode::Linear => {
                        let (y0, y1, wy) = linear(y, in_h);
                        let (x0, x1, wx) = linear(x, in_w);
                        let top = (1.0 - wx) * at(y0, x0) + wx * at(y0, x1);
                        let bottom = (1.0 - wx) * at(y1, x0) + wx * at(y1, x1);
                        (1.0 - wy) * top + wy * bottom
                    }
                };
                output.push(value as f32);
            }
        }
    }
    Ok(([n, c, out_h, out_w], output))
}

/// The two neighbours of coordinate `source` (clamped to `[0, length − 1]`) and the second's
/// weight.
fn linear(source: f64, length: usize) -> (usize, usize, f64) {
    let clamped = source.clamp(0.0, length as f64 - 1.0);
    let first = clamped.floor() as usize;
    (first, (first + 1).min(length - 1), clamped - first as f64)
}
