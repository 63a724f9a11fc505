//! The one Resize reference, over any rank: one 1-D pass per resized axis in f64, each output
//! index reading the taps [`axis_taps`] gives it (the source coordinate of the spec's
//! `coordinate_transformation_mode`, then the nearest element or the two linear neighbours). The
//! passes compose exactly as ONNX's reference interpolates: nearest picks per axis, and linear
//! interpolation over a box is the product of per-axis blends, so resizing one axis after another
//! differs from ONNX's innermost-first order only by f64 rounding.

use crate::error::{Error, Result};
use crate::ops::resize::coordinates::{axis_geometry, axis_taps, CoordinateMode, ResizeMode};
use crate::ops::resize::ResizeOptions;

/// One resized axis: its index, output extent and scale (as [`axis_geometry`] gives them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AxisResize {
    /// The axis.
    pub axis: usize,
    /// Its output extent.
    pub output: usize,
    /// Its scale, `output / input` or the one given.
    pub scale: f64,
}

/// Resize of `values` (row-major, shape `shape`) along each of `axes` in turn with `mode` and
/// `coordinates`; returns the output shape and values.
///
/// # Panics
/// If an axis is out of range or `values` is shorter than `shape` says.
pub fn reference_resize_axes(
    values: &[f64],
    shape: &[usize],
    axes: &[AxisResize],
    mode: ResizeMode,
    coordinates: CoordinateMode,
) -> (Vec<usize>, Vec<f64>) {
    let mut current_shape = shape.to_vec();
    let mut current = values.to_vec();
    for axis in axes {
        current = resize_axis(&current, &current_shape, axis, mode, coordinates);
        current_shape[axis.axis] = axis.output;
    }
    (current_shape, current)
}

/// Resize of the NCHW f32 tensor `input` (shape `shape`) over H and W with the 2-D launcher's
/// options, through [`reference_resize_axes`]; returns the output shape and its values rounded
/// to f32.
pub fn reference_resize(
    input: &[f32],
    shape: [usize; 4],
    options: &ResizeOptions,
) -> Result<([usize; 4], Vec<f32>)> {
    let [n, c, in_h, in_w] = shape;
    if input.len() != n * c * in_h * in_w {
        return Err(Error::ShapeMismatch {
            op: "resize",
            detail: format!(
                "shape {shape:?} needs {} values, got {}",
                n * c * in_h * in_w,
                input.len()
            ),
        });
    }
    let (out_h, scale_h) = axis_geometry(options.target, 0, in_h)?;
    let (out_w, scale_w) = axis_geometry(options.target, 1, in_w)?;
    let axes = [
        AxisResize {
            axis: 2,
            output: out_h,
            scale: scale_h,
        },
        AxisResize {
            axis: 3,
            output: out_w,
            scale: scale_w,
        },
    ];
    let values: Vec<f64> = input.iter().map(|&v| f64::from(v)).collect();
    let (_, output) =
        reference_resize_axes(&values, &shape, &axes, options.mode, options.coordinates);
    let output = output.into_iter().map(|v| v as f32).collect();
    Ok(([n, c, out_h, out_w], output))
}

/// One 1-D pass: along `resize.axis`, output index `j` blends the input's `first` and `second`
/// taps of `j` (nearest: one tap).
fn resize_axis(
    values: &[f64],
    shape: &[usize],
    resize: &AxisResize,
    mode: ResizeMode,
    coordinates: CoordinateMode,
) -> Vec<f64> {
    let extent = shape[resize.axis];
    let taps = axis_taps(mode, coordinates, resize.scale, extent, resize.output);
    let outer: usize = shape[..resize.axis].iter().product();
    let inner: usize = shape[resize.axis + 1..].iter().product();
    let mut output = Vec::with_capacity(outer * resize.output * inner);
    for block in 0..outer {
        let base = block * extent * inner;
        for tap in &taps {
            let (first, second) = (base + tap.first * inner, base + tap.second * inner);
            output.extend((0..inner).map(|i| {
                if tap.weight == 0.0 {
                    values[first + i]
                } else {
                    (1.0 - tap.weight) * values[first + i] + tap.weight * values[second + i]
                }
            }));
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::resize::NearestMode;

    #[test]
    fn bilinear_by_hand() {
        // [[1, 2], [3, 4]] upsampled 2× with half_pixel: the first row blends 1 and 2 at
        // −0.25 (clamped to 0), 0.25, 0.75 and 1.25 (clamped to 1).
        let options = ResizeOptions {
            mode: ResizeMode::Linear,
            ..ResizeOptions::scales(2.0, 2.0)
        };
        let (shape, values) =
            reference_resize(&[1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2], &options).unwrap();
        assert_eq!(shape, [1, 1, 4, 4]);
        assert_eq!(values[..4], [1.0, 1.25, 1.75, 2.0]);
        assert_eq!(values[12..], [3.0, 3.25, 3.75, 4.0]);
    }

    #[test]
    fn any_axis_of_any_rank() {
        // A 3-D [2, 1, 3] tensor: axis 0 doubled (nearest, asymmetric), axis 2 sized to 2.
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let axes = [
            AxisResize {
                axis: 0,
                output: 4,
                scale: 2.0,
            },
            AxisResize {
                axis: 2,
                output: 2,
                scale: 2.0 / 3.0,
            },
        ];
        let nearest = ResizeMode::Nearest(NearestMode::Floor);
        let (shape, output) = reference_resize_axes(
            &values,
            &[2, 1, 3],
            &axes,
            nearest,
            CoordinateMode::Asymmetric,
        );
        assert_eq!(shape, [4, 1, 2]);
        // Columns 0 and floor(1 · 1.5) = 1 of rows 0, 0, 1, 1.
        assert_eq!(output, [1.0, 2.0, 1.0, 2.0, 4.0, 5.0, 4.0, 5.0]);
    }
}
