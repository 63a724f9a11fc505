//! QLinearMatMul `(a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point,
//! bias?)`: the operands read and checked here, the accumulators from MatMulInteger's reference
//! ([`super::matmul::matmul_integer`]), the requantization from [`reference_qlinear_matmul`].

use crate::error::Result;
use crate::graph::eval::args::{
    expect_arity, expect_same_dtype, float_values, invalid, optional, required, scalar_f64,
    shape_error, unsupported, Inputs,
};
use crate::graph::eval::element::tensor_from_i64;
use crate::graph::eval::matmul::matmul_integer;
use crate::ops::matmul::int8::{reference_qlinear_matmul, Requantization};
use crate::ops::Activation;
use crate::tensor::{DType, HostTensor};

/// QLinearMatMul with a fused `activation` (Identity, or Relu from the QDQ lowering).
pub(crate) fn qlinear_matmul(activation: Activation, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 8, 9)?;
    let relu = match activation {
        Activation::Identity => false,
        Activation::Relu => true,
        other => return Err(unsupported(format!("QLinearMatMul with a fused {other:?}"))),
    };
    let input = |index: usize| required(inputs, index);
    let (a, b, y_zero) = (input(0)?, input(3)?, input(7)?);
    for (tensor, what) in [(a, "a"), (b, "b"), (y_zero, "y_zero_point")] {
        if !matches!(tensor.dtype(), DType::I8 | DType::U8) {
            return Err(unsupported(format!(
                "QLinearMatMul {what} of type {}",
                tensor.dtype()
            )));
        }
    }
    expect_same_dtype(a, input(2)?, "a_zero_point")?;
    expect_same_dtype(b, input(5)?, "b_zero_point")?;
    let accumulators =
        matmul_integer(&[Some(a), Some(b), Some(input(2)?), Some(input(5)?)])?.remove(0);
    let n = if b.shape().len() >= 2 {
        b.shape()[b.shape().len() - 1]
    } else {
        1
    };
    let b_scales = per_column_scales(input(4)?, n)?;
    float_values(input(1)?, "a_scale")?;
    float_values(input(6)?, "y_scale")?;
    let mut requant = Requantization::new(
        scalar_f64(input(1)?, "a_scale")? as f32,
        &b_scales,
        scalar_f64(input(6)?, "y_scale")? as f32,
        scalar_f64(y_zero, "y_zero_point")? as i32,
        y_zero.dtype(),
    )?;
    requant.relu = relu;
    requant.bias = optional(inputs, 8)
        .map(|bias| column_bias(bias, n))
        .transpose()?;
    let values: Vec<i32> = accumulators
        .to_i64_vec("")?
        .into_iter()
        .map(|v| v as i32)
        .collect();
    let output = reference_qlinear_matmul(&values, &requant);
    let output = output.into_iter().map(i64::from);
    Ok(vec![tensor_from_i64(
        y_zero.dtype(),
        accumulators.shape(),
        output,
    )?])
}

/// `b_scale`: a scalar, or one value per column of `b` (`n` of them).
fn per_column_scales(scale: &HostTensor, n: usize) -> Result<Vec<f32>> {
    match &float_values(scale, "b_scale")?[..] {
        [one] => Ok(vec![*one; n]),
        per_column if per_column.len() == n && scale.shape().len() == 1 => Ok(per_column.to_vec()),
        _ => Err(invalid(format!(
            "b_scale must be a scalar or hold one value per column (N = {n}), got shape {:?}",
            scale.shape()
        ))),
    }
}

/// The optional ninth input: one i32 per column.
fn column_bias(bias: &HostTensor, n: usize) -> Result<Vec<i32>> {
    if bias.dtype() != DType::I32 || bias.shape() != [n] {
        return Err(shape_error(format!(
            "bias must be i32 [{n}], got {} {:?}",
            bias.dtype(),
            bias.shape()
        )));
    }
    Ok(bias
        .to_i64_vec("bias")?
        .into_iter()
        .map(|v| v as i32)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::TensorData;

    fn t(shape: &[usize], data: TensorData) -> HostTensor {
        HostTensor::new(shape, data).unwrap()
    }

    fn f(value: f32) -> HostTensor {
        HostTensor::from_f32(&[], vec![value]).unwrap()
    }

    /// a − a_zp = [[1, 2, 3]], b − b_zp = [[1, 0], [0, 1], [1, -1]]: acc = [4, -1].
    fn operands() -> Vec<HostTensor> {
        vec![
            t(&[1, 3], TensorData::U8(vec![129, 130, 131])),
            f(0.5),
            t(&[], TensorData::U8(vec![128])),
            t(&[3, 2], TensorData::I8(vec![1, 0, 0, 1, 1, -1])),
            HostTensor::from_f32(&[2], vec![1.0, 2.0]).unwrap(),
            t(&[2], TensorData::I8(vec![0, 0])),
            f(0.25),
            t(&[], TensorData::I8(vec![-3])),
        ]
    }

    fn run(inputs: &[HostTensor], activation: Activation) -> Result<Vec<HostTensor>> {
        let refs: Vec<Option<&HostTensor>> = inputs.iter().map(Some).collect();
        qlinear_matmul(activation, &refs)
    }

    #[test]
    fn requantizes_per_column_and_adds_the_bias() {
        // multipliers 0.5 · [1, 2] / 0.25 = [2, 4]: [4 · 2, −1 · 4] + (−3) = [5, −7].
        let y = run(&operands(), Activation::Identity).unwrap();
        assert_eq!(y[0].data(), &TensorData::I8(vec![5, -7]));
        let mut with_bias = operands();
        with_bias.push(t(&[2], TensorData::I32(vec![-4, 1])));
        let y = run(&with_bias, Activation::Relu).unwrap();
        // [0 · 2, 0 · 4] + (−3), and the Relu clamps at the zero point −3.
        assert_eq!(y[0].data(), &TensorData::I8(vec![-3, -3]));
    }

    #[test]
    fn bad_scales_zero_points_and_bias_are_errors() {
        let mut zero_scale = operands();
        zero_scale[6] = f(0.0);
        assert!(run(&zero_scale, Activation::Identity).is_err());
        let mut three_scales = operands();
        three_scales[4] = HostTensor::from_f32(&[3], vec![1.0; 3]).unwrap();
        assert!(run(&three_scales, Activation::Identity).is_err());
        let mut mixed = operands();
        mixed[2] = t(&[], TensorData::I8(vec![0]));
        assert!(run(&mixed, Activation::Identity).is_err());
        let mut bad_bias = operands();
        bad_bias.push(t(&[3], TensorData::I32(vec![0; 3])));
        assert!(run(&bad_bias, Activation::Identity).is_err());
    }
}
