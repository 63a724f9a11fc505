//! Quantization: QuantizeLinear and DequantizeLinear through [`reference_quantize_linear`] and
//! [`reference_dequantize_linear`] (per tensor or per axis), and QLinearConv through
//! [`reference_qlinear_conv`]: the operands read and checked here, the arithmetic there.

use crate::error::Result;
use crate::graph::eval::args::{
    expect_arity, expect_same_dtype, float_values, invalid, optional, output_len, required,
    scalar_f64, shape_error, unsupported, Inputs,
};
use crate::graph::eval::element::{tensor_from_f64, tensor_from_i64};
use crate::graph::ConvAttrs;
use crate::ops::conv::{reference_qlinear_conv, ConvGeometry, QLinearOperands, QLinearScales};
use crate::ops::quantize::{
    reference_dequantize_linear, reference_dynamic_quantize_linear, reference_quantize_linear,
    QdqAttributes,
};
use crate::ops::Activation;
use crate::tensor::{DType, HostTensor, TensorData};

/// QuantizeLinear `(x, y_scale, y_zero_point?)` to the zero point's dtype (i8 or u8; u8 when
/// absent).
pub(crate) fn quantize_linear(axis: i64, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 3)?;
    let (x, scale) = (required(inputs, 0)?, required(inputs, 1)?);
    let zero_point = optional(inputs, 2);
    let dtype = zero_point.map_or(DType::U8, HostTensor::dtype);
    if !matches!(dtype, DType::I8 | DType::U8) {
        return Err(unsupported(format!("QuantizeLinear to {dtype}")));
    }
    let zero_values = zero_point.map(quantized_values).transpose()?;
    let quantized = reference_quantize_linear(
        &float_values(x, "x")?,
        x.shape(),
        &float_values(scale, "y_scale")?,
        scale.shape(),
        zero_values.as_deref(),
        dtype,
        &QdqAttributes {
            axis,
            block_size: 0,
        },
    )?;
    let values = quantized.into_iter().map(i64::from);
    Ok(vec![tensor_from_i64(dtype, x.shape(), values)?])
}

/// DynamicQuantizeLinear `(x) -> (y, y_scale, y_zero_point)` through
/// [`reference_dynamic_quantize_linear`].
pub(crate) fn dynamic_quantize_linear(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let x = required(inputs, 0)?;
    let quantized = reference_dynamic_quantize_linear(&float_values(x, "x")?);
    Ok(vec![
        HostTensor::new(x.shape(), TensorData::U8(quantized.values))?,
        HostTensor::new(&[], TensorData::F32(vec![quantized.scale]))?,
        HostTensor::new(&[], TensorData::U8(vec![quantized.zero_point]))?,
    ])
}

/// DequantizeLinear `(x, x_scale, x_zero_point?)` of an i8, u8 or i32 tensor, in the scale's
/// dtype.
pub(crate) fn dequantize_linear(axis: i64, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 3)?;
    let (x, scale) = (required(inputs, 0)?, required(inputs, 1)?);
    let zero_point = optional(inputs, 2);
    if let Some(zero_point) = zero_point {
        expect_same_dtype(x, zero_point, "x_zero_point")?;
    }
    let zero_values = zero_point.map(quantized_values).transpose()?;
    let values = reference_dequantize_linear(
        &quantized_values(x)?,
        x.shape(),
        &float_values(scale, "x_scale")?,
        scale.shape(),
        zero_values.as_deref(),
        &QdqAttributes {
            axis,
            block_size: 0,
        },
    )?;
    Ok(vec![tensor_from_f64(scale.dtype(), x.shape(), values)?])
}

/// The values of an i8, u8 or i32 tensor as i32.
fn quantized_values(tensor: &HostTensor) -> Result<Vec<i32>> {
    if !matches!(tensor.dtype(), DType::I8 | DType::U8 | DType::I32) {
        return Err(unsupported(format!(
            "quantized values of type {}; kiln takes i8, u8 and i32",
            tensor.dtype()
        )));
    }
    Ok(tensor
        .to_i64_vec("")?
        .into_iter()
        .map(|v| v as i32)
        .collect())
}

/// QLinearConv `(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, b?)`.
pub(crate) fn qlinear_conv(attrs: &ConvAttrs, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 8, 9)?;
    let relu = match attrs.activation {
        Activation::Identity => false,
        Activation::Relu => true,
        _ => {
            return Err(unsupported(
                "QLinearConv with a fused activation other than Relu",
            ))
        }
    };
    let input = |index: usize| required(inputs, index);
    let (x, w, y_zero) = (input(0)?, input(3)?, input(7)?);
    for (tensor, what) in [(x, "x"), (w, "w"), (y_zero, "y_zero_point")] {
        if !matches!(tensor.dtype(), DType::I8 | DType::U8) {
            return Err(unsupported(format!(
                "QLinearConv {what} of type {}",
                tensor.dtype()
            )));
        }
    }
    expect_same_dtype(x, input(2)?, "x_zero_point")?;
    expect_same_dtype(w, input(5)?, "w_zero_point")?;
    for (index, what) in [(1, "x_scale"), (4, "w_scale"), (6, "y_scale")] {
        float_values(input(index)?, what)?;
    }
    let spec = attrs.spec();
    let geometry = ConvGeometry::forward(&spec, x.shape(), w.shape())?;
    let out_channels = geometry.out_channels;
    let shape = geometry.output_shape(x.shape()[0]);
    output_len(&shape)?;
    let bias = match optional(inputs, 8) {
        Some(bias) if bias.dtype() == DType::I32 && bias.shape() == [out_channels] => {
            Some(quantized_values(bias)?)
        }
        Some(bias) => {
            return Err(shape_error(format!(
                "B must be i32 [{out_channels}], got {} {:?}",
                bias.dtype(),
                bias.shape()
            )))
        }
        None => None,
    };
    let to_f32 = |values: Vec<f64>| values.into_iter().map(|v| v as f32).collect::<Vec<f32>>();
    let (x_values, w_values) = (quantized_values(x)?, quantized_values(w)?);
    let w_zero_points: Vec<i32> = per_channel(input(5)?, out_channels, "w_zero_point")?
        .into_iter()
        .map(|v| v as i32)
        .collect();
    let operands = QLinearOperands {
        x: &x_values,
        x_shape: x.shape(),
        x_zero_point: scalar_f64(input(2)?, "x_zero_point")? as i32,
        w: &w_values,
        w_shape: w.shape(),
        w_zero_points: &w_zero_points,
        bias: bias.as_deref(),
    };
    let w_scales = to_f32(per_channel(input(4)?, out_channels, "w_scale")?);
    let scales = QLinearScales {
        x_scale: scalar_f64(input(1)?, "x_scale")? as f32,
        w_scales: &w_scales,
        y_scale: scalar_f64(input(6)?, "y_scale")? as f32,
    };
    let range = if y_zero.dtype() == DType::I8 {
        [-128, 127]
    } else {
        [0, 255]
    };
    let y_zero_point = scalar_f64(y_zero, "y_zero_point")? as i32;
    // A fused Relu (from the QDQ lowering) clamps at the real value 0, which is y_zero_point.
    let range = if relu {
        [range[0].max(y_zero_point), range[1]]
    } else {
        range
    };
    let values = reference_qlinear_conv(&operands, &spec, &scales, y_zero_point, range)?;
    let values = values.into_iter().map(i64::from);
    Ok(vec![tensor_from_i64(y_zero.dtype(), &shape, values)?])
}

/// A scalar or one value per output channel, as `out_channels` values.
fn per_channel(tensor: &HostTensor, out_channels: usize, what: &str) -> Result<Vec<f64>> {
    let values = tensor.to_f64_vec();
    match values.len() {
        1 => Ok(vec![values[0]; out_channels]),
        len if len == out_channels && tensor.shape().len() == 1 => Ok(values),
        _ => Err(invalid(format!(
            "{what} must be a scalar or hold one value per output channel, got shape {:?}",
            tensor.shape()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::TensorData;

    fn t(shape: &[usize], data: TensorData) -> HostTensor {
        HostTensor::new(shape, data).unwrap()
    }

    #[test]
    fn quantize_rounds_half_even_and_saturates() {
        let x = t(&[4], TensorData::F32(vec![0.5, 1.5, 300.0, -2.0]));
        let scale = t(&[], TensorData::F32(vec![1.0]));
        let unsigned = quantize_linear(1, &[Some(&x), Some(&scale)]).unwrap();
        assert_eq!(unsigned[0].data(), &TensorData::U8(vec![0, 2, 255, 0]));
        let zero = t(&[], TensorData::I8(vec![-1]));
        let signed = quantize_linear(1, &[Some(&x), Some(&scale), Some(&zero)]).unwrap();
        assert_eq!(signed[0].data(), &TensorData::I8(vec![-1, 1, 127, -3]));
    }

    #[test]
    fn dequantize_per_axis() {
        let x = t(&[2, 2], TensorData::U8(vec![10, 20, 30, 40]));
        let scale = t(&[2], TensorData::F32(vec![0.5, 2.0]));
        let zero = t(&[2], TensorData::U8(vec![10, 0]));
        let y = dequantize_linear(0, &[Some(&x), Some(&scale), Some(&zero)]).unwrap();
        assert_eq!(y[0].as_f32().unwrap(), &[0.0, 5.0, 60.0, 80.0]);
        let wrong = t(&[2], TensorData::I8(vec![0, 0]));
        assert!(dequantize_linear(0, &[Some(&x), Some(&scale), Some(&wrong)]).is_err());
    }

    #[test]
    fn qlinear_conv_requantizes_like_onnx() {
        // 1×1 kernel: acc = (x − 2)·(w − 1) + bias; y = acc · (0.5 · 0.5 / 1) + 3.
        let x = t(&[1, 1, 1, 3], TensorData::U8(vec![2, 4, 10]));
        let w = t(&[1, 1, 1, 1], TensorData::U8(vec![3]));
        let f = |v: f32| t(&[], TensorData::F32(vec![v]));
        let u = |v: u8| t(&[], TensorData::U8(vec![v]));
        let bias = t(&[1], TensorData::I32(vec![2]));
        let attrs = ConvAttrs::default();
        let (xs, xz, ws, wz, ys, yz) = (f(0.5), u(2), f(0.5), u(1), f(1.0), u(3));
        let inputs = [
            Some(&x),
            Some(&xs),
            Some(&xz),
            Some(&w),
            Some(&ws),
            Some(&wz),
            Some(&ys),
            Some(&yz),
            Some(&bias),
        ];
        // acc = [0 + 2, 4 + 2, 16 + 2] → [0.5, 1.5, 4.5] → rounded half to even [0, 2, 4], + 3
        // → [3, 5, 7] (onnxruntime's order: round, then add the zero point).
        let y = qlinear_conv(&attrs, &inputs).unwrap();
        assert_eq!(y[0].data(), &TensorData::U8(vec![3, 5, 7]));
        assert!(qlinear_conv(&attrs, &inputs[..7]).is_err());
    }
}
