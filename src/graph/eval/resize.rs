//! Resize `(x, roi?, scales?, sizes?)` of f32 and f16 tensors (and, nearest only, int8 and uint8)
//! of any rank, nearest or linear,
//! under every coordinate mode kiln has: the resized axes read from the inputs here (their extents
//! from [`axis_geometry`]), the values from [`reference_resize_axes`], the ops' one reference.

use crate::error::Result;
use crate::graph::eval::args::{
    expect_arity, float_values, integer_values, invalid, optional_non_empty, output_len, required,
    Inputs,
};
use crate::graph::eval::element::tensor_from_f64;
use crate::graph::ResizeAttrs;
use crate::ops::resize::coordinates::{axis_geometry, ResizeMode, ResizeTarget};
use crate::ops::resize::{reference_resize_axes, AxisResize};
use crate::tensor::shape::normalize_axis;
use crate::tensor::{DType, HostTensor};

/// Resize with `attrs`; exactly one of `scales` and `sizes` is given (non-empty), one entry per
/// resized axis.
pub(crate) fn resize(attrs: &ResizeAttrs, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 4)?;
    let x = required(inputs, 0)?;
    let values: Vec<f64> = match (x.dtype(), attrs.mode) {
        // Nearest copies elements, so 8-bit values go through f64 exactly.
        (DType::I8 | DType::U8, ResizeMode::Nearest(_)) => x.to_f64_vec(),
        _ => float_values(x, "X")?
            .iter()
            .map(|&v| f64::from(v))
            .collect(),
    };
    let resized = resized_axes(attrs, x.shape(), inputs)?;
    let mut shape = x.shape().to_vec();
    for axis in &resized {
        shape[axis.axis] = axis.output;
    }
    output_len(&shape)?;
    let (shape, output) =
        reference_resize_axes(&values, x.shape(), &resized, attrs.mode, attrs.coordinates);
    Ok(vec![tensor_from_f64(x.dtype(), &shape, output)?])
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
            })
        })
        .collect::<Result<Vec<_>>>()?;
    resized.sort_by_key(|axis| axis.axis);
    Ok(resized)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::resize::CoordinateMode;
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

    #[test]
    fn batch_axis_resizes_too() {
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
    }
}
