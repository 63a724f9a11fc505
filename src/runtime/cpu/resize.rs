//! Resize `(x, roi?, scales?, sizes?)` of f32 and f16 tensors of any rank, nearest or linear,
//! under every coordinate mode kiln has. An NCHW tensor resized over H and W only goes through
//! [`reference_resize`]; anything else (other ranks, N or C resized, `axes`) through one 1-D pass
//! per resized axis built from the same coordinate rules ([`axis_geometry`], [`axis_taps`]). The
//! passes compose exactly as ONNX's reference interpolates: nearest picks per axis, and linear
//! interpolation over a box is the product of per-axis blends. Values stay in f64 between passes.

use crate::error::Result;
use crate::graph::ResizeAttrs;
use crate::ops::resize::coordinates::{axis_geometry, axis_taps, CoordinateMode, ResizeTarget};
use crate::ops::resize::{reference_resize, ResizeOptions};
use crate::runtime::cpu::args::{
    expect_arity, float_values, integer_values, invalid, optional_non_empty, output_len, required,
    Inputs,
};
use crate::runtime::cpu::element::tensor_from_f64;
use crate::tensor::shape::normalize_axis;
use crate::tensor::HostTensor;

/// One resized axis: its index, output extent and scale.
struct AxisResize {
    axis: usize,
    output: usize,
    scale: f64,
    /// The entry of `scales` or `sizes` it came from, for [`reference_resize`].
    target: ResizeTarget,
}

/// Resize with `attrs`; exactly one of `scales` and `sizes` is given (non-empty), one entry per
/// resized axis.
pub(super) fn resize(attrs: &ResizeAttrs, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 4)?;
    let x = required(inputs, 0)?;
    let values = float_values(x, "X")?;
    let resized = resized_axes(attrs, x.shape(), inputs)?;
    let mut shape = x.shape().to_vec();
    for axis in &resized {
        shape[axis.axis] = axis.output;
    }
    output_len(&shape)?;
    if let Some(options) = reference_options(attrs, x.shape(), &resized) {
        let [n, c, h, w] = [x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]];
        let (_, output) = reference_resize(&values, [n, c, h, w], &options)?;
        let output = output.into_iter().map(f64::from);
        return Ok(vec![tensor_from_f64(x.dtype(), &shape, output)?]);
    }
    let mut current_shape = x.shape().to_vec();
    let mut current: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    for axis in &resized {
        current = resize_axis(attrs, &current, &current_shape, axis);
        current_shape[axis.axis] = axis.output;
    }
    Ok(vec![tensor_from_f64(x.dtype(), &shape, current)?])
}

/// The resized axes, ascending, with their output extents and scales.
fn resized_axes(attrs: &ResizeAttrs, shape: &[usize], inputs: Inputs) -> Result<Vec<AxisResize>> {
    let rank = shape.len();
    let axes: Vec<usize> = if attrs.axes.is_empty() {
        (0..rank).collect()
    } else {
        let axes = (attrs.axes.iter())
            .map(|&axis| normalize_axis("", axis, rank))
            .collect::<Result<Vec<usize>>>()?;
        if (1..axes.len()).any(|i| axes[..i].contains(&axes[i])) {
            return Err(invalid(format!("axes {:?} name an axis twice", attrs.axes)));
        }
        axes
    };
    let targets: Vec<ResizeTarget> =
        match (optional_non_empty(inputs, 2), optional_non_empty(inputs, 3)) {
            (Some(scales), None) => (float_values(scales, "scales")?.iter())
                .map(|&scale| ResizeTarget::Scales([scale; 2]))
                .collect(),
            (None, Some(sizes)) => (integer_values(sizes, "sizes")?.into_iter())
                .map(|size| {
                    let size =
                        usize::try_from(size).map_err(|_| invalid(format!("size {size} < 0")))?;
                    Ok(ResizeTarget::Sizes([size; 2]))
                })
                .collect::<Result<_>>()?,
            _ => return Err(invalid("needs exactly one of scales and sizes")),
        };
    if targets.len() != axes.len() {
        return Err(invalid(format!(
            "scales or sizes must hold one entry per resized axis ({}), got {}",
            axes.len(),
            targets.len()
        )));
    }
    let mut resized = (axes.into_iter().zip(targets))
        .map(|(axis, target)| {
            let (output, scale) = axis_geometry(target, 0, shape[axis])?;
            Ok(AxisResize {
                axis,
                output,
                scale,
                target,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    resized.sort_by_key(|axis| axis.axis);
    Ok(resized)
}

/// The options of [`reference_resize`] when it computes this resize: a 4-D input whose N and C
/// are left alone (or resized by exactly 1, which every mode but `tf_half_pixel_for_nn` maps to
/// itself).
fn reference_options(
    attrs: &ResizeAttrs,
    shape: &[usize],
    resized: &[AxisResize],
) -> Option<ResizeOptions> {
    let identity = |axis: &AxisResize| axis.output == shape[axis.axis] && axis.scale == 1.0;
    let batch_and_channels_kept = resized.iter().filter(|axis| axis.axis < 2).all(identity);
    if shape.len() != 4
        || !batch_and_channels_kept
        || attrs.coordinates == CoordinateMode::TfHalfPixelForNn
    {
        return None;
    }
    let find = |index: usize| resized.iter().find(|axis| axis.axis == index);
    let (rows, columns) = (find(2), find(3));
    let target = match (rows.map(|r| r.target), columns.map(|c| c.target)) {
        (Some(ResizeTarget::Sizes([h, _])), Some(ResizeTarget::Sizes([w, _]))) => {
            ResizeTarget::Sizes([h, w])
        }
        (Some(ResizeTarget::Scales([h, _])), Some(ResizeTarget::Scales([w, _]))) => {
            ResizeTarget::Scales([h, w])
        }
        _ => return None,
    };
    Some(ResizeOptions {
        mode: attrs.mode,
        coordinates: attrs.coordinates,
        target,
    })
}

/// One 1-D pass: along `resize.axis`, output index `j` blends the input's `first` and `second`
/// taps of `j` (nearest: one tap).
fn resize_axis(
    attrs: &ResizeAttrs,
    values: &[f64],
    shape: &[usize],
    resize: &AxisResize,
) -> Vec<f64> {
    let extent = shape[resize.axis];
    let taps = axis_taps(
        attrs.mode,
        attrs.coordinates,
        resize.scale,
        extent,
        resize.output,
    );
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
    use crate::check::SeededRng;
    use crate::ops::resize::{NearestMode, ResizeMode};

    fn f32s(shape: &[usize], values: &[f32]) -> HostTensor {
        HostTensor::from_f32(shape, values.to_vec()).unwrap()
    }

    fn attrs(mode: ResizeMode, coordinates: CoordinateMode, axes: &[i64]) -> ResizeAttrs {
        ResizeAttrs {
            mode,
            coordinates,
            axes: axes.to_vec(),
        }
    }

    #[test]
    fn one_dimensional_linear_and_nearest() {
        let x = f32s(&[2], &[1.0, 3.0]);
        let scales = f32s(&[1], &[2.0]);
        let linear = attrs(ResizeMode::Linear, CoordinateMode::HalfPixel, &[]);
        let y = resize(&linear, &[Some(&x), None, Some(&scales)]).unwrap();
        assert_eq!(y[0].as_f32().unwrap(), &[1.0, 1.5, 2.5, 3.0]);
        let nearest = attrs(
            ResizeMode::Nearest(NearestMode::Floor),
            CoordinateMode::Asymmetric,
            &[-1],
        );
        let sizes = HostTensor::from_i64(&[1], vec![3]).unwrap();
        let y = resize(&nearest, &[Some(&x), None, None, Some(&sizes)]).unwrap();
        assert_eq!(y[0].as_f32().unwrap(), &[1.0, 1.0, 3.0]);
        assert!(resize(&linear, &[Some(&x), None, Some(&scales), Some(&sizes)]).is_err());
        assert!(resize(&linear, &[Some(&x)]).is_err());
        let two = f32s(&[2], &[2.0, 2.0]);
        assert!(resize(&linear, &[Some(&x), None, Some(&two)]).is_err());
    }

    /// The axis-by-axis passes against the 2-D reference on NCHW: both blend the same taps with
    /// the same weights in f64 (the reference W first, the passes H first), so they differ only
    /// by f64 rounding, far below the f32 output's 2⁻²⁴: equal after rounding to f32 but for
    /// rare ties, so compare within one f32 ulp.
    #[test]
    fn axis_by_axis_matches_the_2d_reference() {
        let mut rng = SeededRng::new(11);
        let shape = [2, 2, 3, 5];
        let x = f32s(&shape, &rng.uniform_vec(60, -2.0, 2.0));
        let scales = f32s(&[4], &[1.0, 1.0, 1.7, 0.6]);
        for mode in [
            ResizeMode::Linear,
            ResizeMode::Nearest(NearestMode::RoundPreferCeil),
        ] {
            let attrs = attrs(mode, CoordinateMode::HalfPixel, &[]);
            let direct = resize(&attrs, &[Some(&x), None, Some(&scales)]).unwrap();
            let resized = resized_axes(&attrs, &shape, &[Some(&x), None, Some(&scales)]).unwrap();
            assert!(reference_options(&attrs, &shape, &resized).is_some());
            let mut values: Vec<f64> = x.to_f64_vec();
            let mut current = shape.to_vec();
            for axis in &resized {
                values = resize_axis(&attrs, &values, &current, axis);
                current[axis.axis] = axis.output;
            }
            assert_eq!(direct[0].shape(), &current[..]);
            for (&a, b) in direct[0].as_f32().unwrap().iter().zip(values) {
                let tolerance = f32::EPSILON * a.abs() + 1e-12;
                assert!((a - b as f32).abs() <= tolerance, "{mode:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn batch_axis_and_tf_nearest_take_the_general_path() {
        let x = f32s(&[2, 1, 1, 1], &[1.0, 2.0]);
        let scales = f32s(&[4], &[2.0, 1.0, 1.0, 1.0]);
        let nearest = attrs(
            ResizeMode::Nearest(NearestMode::RoundPreferFloor),
            CoordinateMode::Asymmetric,
            &[],
        );
        let y = resize(&nearest, &[Some(&x), None, Some(&scales)]).unwrap();
        assert_eq!(y[0].shape(), &[4, 1, 1, 1]);
        assert_eq!(y[0].as_f32().unwrap(), &[1.0, 1.0, 2.0, 2.0]);
        let tf = attrs(
            ResizeMode::Nearest(NearestMode::RoundPreferCeil),
            CoordinateMode::TfHalfPixelForNn,
            &[],
        );
        let resized = resized_axes(&tf, &[2, 1, 1, 1], &[Some(&x), None, Some(&scales)]).unwrap();
        assert!(reference_options(&tf, &[2, 1, 1, 1], &resized).is_none());
    }
}
