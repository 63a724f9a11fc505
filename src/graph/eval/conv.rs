//! Conv and ConvTranspose of f32 or f16 tensors, any number of spatial axes: the operands read
//! and checked, then [`reference_conv`] / [`reference_conv_transpose`], the ops' one reference.
//! The fused activation is applied last, in the tensor's dtype.

use crate::error::Result;
use crate::graph::eval::args::{
    expect_arity, expect_same_dtype, float_values, optional, output_len, required, Inputs,
};
use crate::graph::eval::element::tensor_from_f64;
use crate::graph::{ConvAttrs, ConvTransposeAttrs};
use crate::ops::conv::{reference_conv, reference_conv_transpose, ConvGeometry, ConvOperands};
use crate::ops::Activation;
use crate::tensor::HostTensor;
use std::borrow::Cow;

/// The float operands of a Conv or ConvTranspose node: `(x, w, b?)`, one dtype.
struct FloatOperands<'t> {
    x: &'t HostTensor,
    w: &'t HostTensor,
    x_values: Cow<'t, [f32]>,
    w_values: Cow<'t, [f32]>,
    bias: Option<Cow<'t, [f32]>>,
}

impl<'t> FloatOperands<'t> {
    fn read(inputs: Inputs<'_, 't>) -> Result<Self> {
        expect_arity(inputs, 2, 3)?;
        let (x, w) = (required(inputs, 0)?, required(inputs, 1)?);
        expect_same_dtype(x, w, "W")?;
        let bias = optional(inputs, 2)
            .map(|bias| {
                expect_same_dtype(x, bias, "B")?;
                float_values(bias, "B")
            })
            .transpose()?;
        Ok(FloatOperands {
            x,
            w,
            x_values: float_values(x, "X")?,
            w_values: float_values(w, "W")?,
            bias,
        })
    }

    /// Checks the output size before anything is computed; returns the output shape.
    fn output_shape(&self, geometry: &ConvGeometry) -> Result<Vec<usize>> {
        let shape = geometry.output_shape(self.x.shape()[0]);
        output_len(&shape)?;
        Ok(shape)
    }

    fn conv_operands(&self) -> ConvOperands<'_> {
        ConvOperands {
            x: &self.x_values,
            x_shape: self.x.shape(),
            w: &self.w_values,
            w_shape: self.w.shape(),
            bias: self.bias.as_deref(),
        }
    }

    /// The output tensor from exact values, after `activation`.
    fn finish(
        &self,
        shape: &[usize],
        values: Vec<f64>,
        activation: Activation,
    ) -> Result<HostTensor> {
        tensor_from_f64(
            self.x.dtype(),
            shape,
            values.into_iter().map(|v| activation.reference(v)),
        )
    }
}

/// Conv `(x, w, b?)` with `attrs.activation` applied.
pub(crate) fn conv(attrs: &ConvAttrs, inputs: Inputs) -> Result<Vec<HostTensor>> {
    let operands = FloatOperands::read(inputs)?;
    let spec = attrs.spec();
    let geometry = ConvGeometry::forward(&spec, operands.x.shape(), operands.w.shape())?;
    let shape = operands.output_shape(&geometry)?;
    let reference = reference_conv(&operands.conv_operands(), &spec, Activation::Identity)?;
    Ok(vec![operands.finish(
        &shape,
        reference.output,
        attrs.activation,
    )?])
}

/// ConvTranspose `(x, w, b?)` with `attrs.conv.activation` applied.
pub(crate) fn conv_transpose(
    attrs: &ConvTransposeAttrs,
    inputs: Inputs,
) -> Result<Vec<HostTensor>> {
    let operands = FloatOperands::read(inputs)?;
    let spec = attrs.spec();
    let geometry = ConvGeometry::transposed(&spec, operands.x.shape(), operands.w.shape())?;
    let shape = operands.output_shape(&geometry)?;
    let reference =
        reference_conv_transpose(&operands.conv_operands(), &spec, Activation::Identity)?;
    Ok(vec![operands.finish(
        &shape,
        reference.output,
        attrs.conv.activation,
    )?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::TensorData;
    use half::f16;

    /// Empty lists: every default comes from the weight's rank.
    fn attrs() -> ConvAttrs {
        ConvAttrs::default()
    }

    fn f32s(shape: &[usize], values: &[f32]) -> HostTensor {
        HostTensor::from_f32(shape, values.to_vec()).unwrap()
    }

    #[test]
    fn conv_2d_with_bias_and_activation() {
        // A 2×2 all-ones kernel over [[1, 2], [3, 4]] padded by 1 at the end: sums of each
        // window, plus bias −5, through ReLU.
        let x = f32s(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let w = f32s(&[1, 1, 2, 2], &[1.0; 4]);
        let b = f32s(&[1], &[-5.0]);
        let relu = ConvAttrs {
            pads: vec![0, 0, 1, 1],
            activation: Activation::Relu,
            ..attrs()
        };
        let y = conv(&relu, &[Some(&x), Some(&w), Some(&b)]).unwrap();
        assert_eq!(y[0].shape(), &[1, 1, 2, 2]);
        assert_eq!(y[0].as_f32().unwrap(), &[5.0, 1.0, 2.0, 0.0]);
        let halves = HostTensor::new(&[1, 1, 2, 2], TensorData::F16(vec![f16::ONE; 4])).unwrap();
        let y = conv(&attrs(), &[Some(&halves), Some(&halves)]).unwrap();
        assert_eq!(y[0].data(), &TensorData::F16(vec![f16::from_f32(4.0)]));
        assert!(conv(
            &attrs(),
            &[Some(&x), Some(&w), Some(&f32s(&[2], &[0.0; 2]))]
        )
        .is_err());
        assert!(conv(&attrs(), &[Some(&x), Some(&halves)]).is_err());
    }

    #[test]
    fn conv_3d_runs_the_general_loops() {
        let x = f32s(&[1, 1, 2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        let w = f32s(&[2, 1, 2, 1, 1], &[1.0, 1.0, 1.0, -1.0]);
        let y = conv(&attrs(), &[Some(&x), Some(&w)]).unwrap();
        assert_eq!(y[0].shape(), &[1, 2, 1, 2, 2]);
        assert_eq!(
            y[0].as_f32().unwrap(),
            &[6.0, 8.0, 10.0, 12.0, -4.0, -4.0, -4.0, -4.0]
        );
    }

    #[test]
    fn conv_transpose_with_output_shape() {
        // One input pixel 2 and a 2×2 kernel: the full output is 2·w, 2×2; asking for 2×3 pads
        // the columns by −1 at the end, which adds a zero column.
        let x = f32s(&[1, 1, 1, 1], &[2.0]);
        let w = f32s(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let transpose = ConvTransposeAttrs {
            conv: attrs(),
            output_padding: vec![],
            output_shape: vec![2, 3],
        };
        let y = conv_transpose(&transpose, &[Some(&x), Some(&w)]).unwrap();
        assert_eq!(y[0].shape(), &[1, 1, 2, 3]);
        assert_eq!(y[0].as_f32().unwrap(), &[2.0, 4.0, 0.0, 6.0, 8.0, 0.0]);
        let plain = ConvTransposeAttrs {
            output_shape: vec![],
            ..transpose
        };
        let y = conv_transpose(&plain, &[Some(&x), Some(&w)]).unwrap();
        assert_eq!(y[0].as_f32().unwrap(), &[2.0, 4.0, 6.0, 8.0]);
    }
}
