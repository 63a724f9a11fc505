//! Normalizations of f32 and f16 tensors through their references: BatchNormalization (inference)
//! by [`reference_batchnorm`], LayerNormalization by [`reference_layernorm`], LRN by
//! [`reference_lrn`], Softmax and
//! LogSoftmax by [`reference_softmax`] (with opset < 13's `coerce_2d`: the input viewed as
//! `[outer, rest]` at `axis` and normalized over everything from `axis` on).

use crate::error::Result;
use crate::graph::eval::args::{
    expect_arity, expect_same_dtype, float_values, optional, required, Inputs,
};
use crate::graph::eval::element::tensor_from_f64;
use crate::ops::normalization::{
    reference_batchnorm, reference_layernorm, reference_lrn, BatchNormParams, LayerNormOptions,
    LrnAttrs,
};
use crate::ops::softmax::reference_softmax;
use crate::tensor::shape::normalize_axis;
use crate::tensor::HostTensor;

/// BatchNormalization `(x, scale, bias, mean, var)` in inference mode.
pub(crate) fn batch_normalization(epsilon: f32, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 5, 5)?;
    let x = required(inputs, 0)?;
    let parameter = |index: usize, what: &str| -> Result<Vec<f32>> {
        let tensor = required(inputs, index)?;
        expect_same_dtype(x, tensor, what)?;
        Ok(float_values(tensor, what)?.into_owned())
    };
    let params = BatchNormParams {
        scale: parameter(1, "scale")?,
        bias: parameter(2, "B")?,
        mean: parameter(3, "input_mean")?,
        var: parameter(4, "input_var")?,
        epsilon,
    };
    let reference = reference_batchnorm(&float_values(x, "X")?, x.shape(), &params)?;
    Ok(vec![tensor_from_f64(
        x.dtype(),
        x.shape(),
        reference.output,
    )?])
}

/// LayerNormalization `(x, scale, bias?)` over the axes from `axis` on.
pub(crate) fn layer_normalization(
    axis: i64,
    epsilon: f32,
    inputs: Inputs,
) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 3)?;
    let (x, scale) = (required(inputs, 0)?, required(inputs, 1)?);
    expect_same_dtype(x, scale, "Scale")?;
    let bias = optional(inputs, 2)
        .map(|bias| {
            expect_same_dtype(x, bias, "B")?;
            float_values(bias, "B")
        })
        .transpose()?;
    let reference = reference_layernorm(
        &float_values(x, "X")?,
        x.shape(),
        &float_values(scale, "Scale")?,
        bias.as_deref(),
        &LayerNormOptions { axis, epsilon },
    )?;
    Ok(vec![tensor_from_f64(
        x.dtype(),
        x.shape(),
        reference.output,
    )?])
}

/// LRN `(x)` of an f32 or f16 `[N, C, ...]` tensor ([`reference_lrn`]).
pub(crate) fn lrn(attrs: &LrnAttrs, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let x = required(inputs, 0)?;
    let reference = reference_lrn(&float_values(x, "X")?, x.shape(), attrs)?;
    Ok(vec![tensor_from_f64(
        x.dtype(),
        x.shape(),
        reference.output,
    )?])
}

/// Softmax (or, with `log`, LogSoftmax) along `axis`; with `coerce_2d` over every axis from
/// `axis` on.
pub(crate) fn softmax(
    axis: i64,
    coerce_2d: bool,
    log: bool,
    inputs: Inputs,
) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let x = required(inputs, 0)?;
    let shape = x.shape();
    let (view, view_axis) = if coerce_2d {
        let axis = normalize_axis("", axis, shape.len())?;
        let outer: usize = shape[..axis].iter().product();
        (vec![outer, shape[axis..].iter().product()], 1)
    } else {
        (shape.to_vec(), axis)
    };
    let reference = reference_softmax(&float_values(x, "input")?, &view, view_axis, log)?;
    Ok(vec![tensor_from_f64(x.dtype(), shape, reference.output)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::TensorData;
    use half::f16;

    fn f32s(shape: &[usize], values: &[f32]) -> HostTensor {
        HostTensor::from_f32(shape, values.to_vec()).unwrap()
    }

    #[test]
    fn batch_normalization_per_channel() {
        // Channel 0: (x − 1)/√(4 + 0)·2 + 1; channel 1: (x − 0)/√1·1 + 0.
        let x = f32s(&[1, 2, 2], &[3.0, 5.0, 7.0, -1.0]);
        let scale = f32s(&[2], &[2.0, 1.0]);
        let bias = f32s(&[2], &[1.0, 0.0]);
        let mean = f32s(&[2], &[1.0, 0.0]);
        let var = f32s(&[2], &[4.0, 1.0]);
        let y = batch_normalization(
            0.0,
            &[Some(&x), Some(&scale), Some(&bias), Some(&mean), Some(&var)],
        )
        .unwrap();
        assert_eq!(y[0].as_f32().unwrap(), &[3.0, 5.0, 7.0, -1.0]);
        let short = f32s(&[1], &[1.0]);
        let wrong = [Some(&x), Some(&short), Some(&bias), Some(&mean), Some(&var)];
        assert!(batch_normalization(0.0, &wrong).is_err());
    }

    #[test]
    fn layer_normalization_rows() {
        // Rows [1, 3] and [4, 0]: means 2, 2; variances 1, 4 → z = [-1, 1] and [1, -1].
        let x = f32s(&[2, 2], &[1.0, 3.0, 4.0, 0.0]);
        let scale = f32s(&[2], &[1.0, 2.0]);
        let bias = f32s(&[2], &[0.5, 0.5]);
        let y = layer_normalization(-1, 0.0, &[Some(&x), Some(&scale), Some(&bias)]).unwrap();
        assert_eq!(y[0].as_f32().unwrap(), &[-0.5, 2.5, 1.5, -1.5]);
        assert!(layer_normalization(2, 0.0, &[Some(&x), Some(&scale)]).is_err());
    }

    #[test]
    fn softmax_axis_and_coerce_2d() {
        let x = f32s(&[1, 2, 2], &[0.0, 0.0, 0.0, 0.0]);
        let by_axis = softmax(1, false, false, &[Some(&x)]).unwrap();
        assert_eq!(by_axis[0].as_f32().unwrap(), &[0.5; 4]);
        let coerced = softmax(1, true, false, &[Some(&x)]).unwrap();
        assert_eq!(coerced[0].as_f32().unwrap(), &[0.25; 4]);
        let log = softmax(-1, false, true, &[Some(&x)]).unwrap();
        assert_eq!(log[0].as_f32().unwrap(), &[-std::f32::consts::LN_2; 4]);
        let halves = HostTensor::new(&[2], TensorData::F16(vec![f16::ZERO; 2])).unwrap();
        let y = softmax(0, false, false, &[Some(&halves)]).unwrap();
        assert_eq!(y[0].data(), &TensorData::F16(vec![f16::from_f32(0.5); 2]));
        assert!(softmax(3, true, false, &[Some(&x)]).is_err());
    }
}
