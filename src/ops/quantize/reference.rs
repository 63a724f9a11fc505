//! The CPU references of QuantizeLinear and DequantizeLinear, element by element through
//! [`crate::tensor::quant`] (ONNX's formulas: `x / scale` in f32, round half to even, add the zero
//! point, saturate; NaN gives the zero point).

use crate::error::{Error, Result};
use crate::ops::matmul::reference::F32_UNIT_ROUNDOFF;
use crate::ops::quantize::layout::{QdqAttributes, QdqLayout};
use crate::tensor::quant::{quantize_i8, quantize_u8};
use crate::tensor::DType;

/// QuantizeLinear of row-major `x` of `x_shape` to `dtype` (`I8` or `U8`), returned as i32 values.
/// `zero_point` (optional, in `dtype`'s range) has the scale's shape.
pub fn reference_quantize_linear(
    x: &[f32],
    x_shape: &[usize],
    scale: &[f32],
    scale_shape: &[usize],
    zero_point: Option<&[i32]>,
    dtype: DType,
    attributes: &QdqAttributes,
) -> Result<Vec<i32>> {
    const OP: &str = "reference_quantize_linear";
    let layout = QdqLayout::resolve(OP, x_shape, scale_shape, None, attributes)?;
    check_lengths(
        OP,
        x.len(),
        &layout,
        scale.len(),
        zero_point.map(<[i32]>::len),
    )?;
    let zero_at = |p: usize| zero_point.map_or(0, |zero_point| zero_point[p]);
    x.iter()
        .enumerate()
        .map(|(index, &value)| {
            let p = layout.param_index(index);
            match dtype {
                DType::I8 => Ok(i32::from(quantize_i8(value, scale[p], zero_at(p) as i8))),
                DType::U8 => Ok(i32::from(quantize_u8(value, scale[p], zero_at(p) as u8))),
                other => Err(Error::InvalidArgument {
                    op: OP,
                    detail: format!("QuantizeLinear outputs i8 or u8, not {other}"),
                }),
            }
        })
        .collect()
}

/// DequantizeLinear of `q` (values of an i8, u8 or i32 tensor of `x_shape`) in f64:
/// `(q − zero_point) · scale`.
pub fn reference_dequantize_linear(
    q: &[i32],
    x_shape: &[usize],
    scale: &[f32],
    scale_shape: &[usize],
    zero_point: Option<&[i32]>,
    attributes: &QdqAttributes,
) -> Result<Vec<f64>> {
    const OP: &str = "reference_dequantize_linear";
    let layout = QdqLayout::resolve(OP, x_shape, scale_shape, None, attributes)?;
    check_lengths(
        OP,
        q.len(),
        &layout,
        scale.len(),
        zero_point.map(<[i32]>::len),
    )?;
    Ok(q.iter()
        .enumerate()
        .map(|(index, &value)| {
            let p = layout.param_index(index);
            let zero = zero_point.map_or(0, |zero_point| zero_point[p]);
            (f64::from(value) - f64::from(zero)) * f64::from(scale[p])
        })
        .collect())
}

/// Per-element tolerances of the GPU DequantizeLinear against `reference` rounded to f32.
///
/// For 8-bit inputs `q − zero_point` is exact, so the kernel's one multiplication (correctly
/// rounded in WGSL) gives the f32-rounded reference itself; the tolerance `u·|y|` (u = 2⁻²⁴) only
/// leaves room for that rounding. For i32 inputs, converting `q` to f32 may round too: the kernel is
/// within `2u·|y|` of the exact value and the rounded reference within `u·|y|`, so `4u·|y|`.
pub fn dequantize_tolerances(reference: &[f64], input: DType) -> Vec<f32> {
    let roundings = if input == DType::I32 { 4.0 } else { 1.0 };
    reference
        .iter()
        .map(|&y| (roundings * F32_UNIT_ROUNDOFF * y.abs()) as f32)
        .collect()
}

fn check_lengths(
    op: &'static str,
    len: usize,
    layout: &QdqLayout,
    scale_len: usize,
    zero_point_len: Option<usize>,
) -> Result<()> {
    let params = match layout.granularity {
        crate::ops::quantize::Granularity::PerTensor => 1,
        crate::ops::quantize::Granularity::PerAxis => layout.axis_len,
        crate::ops::quantize::Granularity::Blocked => {
            layout.count / layout.axis_len.max(1) * layout.blocks
        }
    };
    if len != layout.count || scale_len != params || zero_point_len.is_some_and(|n| n != params) {
        return Err(Error::ShapeMismatch {
            op,
            detail: format!(
                "expected {} values and {params} scales (and zero points), got {len} and \
                 {scale_len}",
                layout.count
            ),
        });
    }
    Ok(())
}
