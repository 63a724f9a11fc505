//! QLinearAveragePool and QLinearGlobalAveragePool `(x, x_scale, x_zero_point?, y_scale,
//! y_zero_point?)`: the inputs read and checked here (int8/uint8 `x`, scalar f32 scales, zero points
//! of `x`'s dtype, 0 when omitted), the values from [`crate::ops::pooling::qlinear`]'s references.

use crate::error::Result;
use crate::graph::eval::args::{
    expect_arity, expect_same_dtype, optional, output_len, required, scalar_f64, shape_error,
    unsupported, Inputs,
};
use crate::graph::PoolAttrs;
use crate::ops::conv::geometry::resolve_auto_pads;
use crate::ops::pooling::{
    reference_qlinear_average_pool2d, reference_qlinear_global_average_pool, Pool2dOptions,
    QLinearPoolQuant,
};
use crate::tensor::{DType, HostTensor, TensorData};

/// QLinearAveragePool with `attrs` over a 4-D (NCHW) input.
pub(crate) fn qlinear_average_pool(attrs: &PoolAttrs, inputs: Inputs) -> Result<Vec<HostTensor>> {
    let (x, quant) = operands(inputs)?;
    let [n, c, h, w] = <[usize; 4]>::try_from(x.shape()).map_err(|_| {
        unsupported(format!(
            "QLinearAveragePool of shape {:?}: kiln pools 2 spatial axes (NCHW)",
            x.shape()
        ))
    })?;
    let options = pool2d_options(attrs, [h, w])?;
    let [out_h, out_w] = options.output_size([h, w])?;
    let shape = [n, c, out_h, out_w];
    output_len(&shape)?;
    let values = reference_qlinear_average_pool2d(&x_values(x)?, [n, c, h, w], &options, &quant)?;
    Ok(vec![quantized_tensor(quant.dtype, &shape, values)?])
}

/// QLinearGlobalAveragePool over `[N, C, spatial...]`.
pub(crate) fn qlinear_global_average_pool(inputs: Inputs) -> Result<Vec<HostTensor>> {
    let (x, quant) = operands(inputs)?;
    if x.shape().len() < 3 || x.shape()[2..].contains(&0) {
        return Err(shape_error(format!(
            "x must be [N, C, spatial...] with non-empty spatial axes, got {:?}",
            x.shape()
        )));
    }
    let plane: usize = x.shape()[2..].iter().product();
    let values = reference_qlinear_global_average_pool(&x_values(x)?, plane, &quant)?;
    let mut shape = x.shape().to_vec();
    shape[2..].fill(1);
    Ok(vec![quantized_tensor(quant.dtype, &shape, values)?])
}

/// `x` and the quantization, checked: 8-bit `x`, zero points of its dtype, scalar scales.
fn operands<'b>(inputs: Inputs<'_, 'b>) -> Result<(&'b HostTensor, QLinearPoolQuant)> {
    expect_arity(inputs, 4, 5)?;
    let x = required(inputs, 0)?;
    if !matches!(x.dtype(), DType::I8 | DType::U8) {
        return Err(unsupported(format!(
            "x of type {}; quantized average pools take int8 or uint8",
            x.dtype()
        )));
    }
    let zero_point = |index: usize, what: &str| -> Result<i32> {
        match optional(inputs, index) {
            None => Ok(0),
            Some(zero) => {
                expect_same_dtype(x, zero, what)?;
                Ok(scalar_f64(zero, what)? as i32)
            }
        }
    };
    let scale = |index: usize, what: &str| -> Result<f32> {
        let tensor = required(inputs, index)?;
        if tensor.dtype() != DType::F32 {
            return Err(unsupported(format!("{what} of type {}", tensor.dtype())));
        }
        Ok(scalar_f64(tensor, what)? as f32)
    };
    let quant = QLinearPoolQuant {
        input_scale: scale(1, "x_scale")?,
        input_zero_point: zero_point(2, "x_zero_point")?,
        output_scale: scale(3, "y_scale")?,
        output_zero_point: zero_point(4, "y_zero_point")?,
        dtype: x.dtype(),
    };
    quant.check()?;
    Ok((x, quant))
}

/// The 2-D window of `attrs` over an `[h, w]` input, after `auto_pad`.
fn pool2d_options(attrs: &PoolAttrs, input: [usize; 2]) -> Result<Pool2dOptions> {
    // The importer and the QDQ lowering fill every list (as the shape rule expects).
    let pair = |values: &[usize], what: &str| -> Result<[usize; 2]> {
        <[usize; 2]>::try_from(values)
            .map_err(|_| shape_error(format!("{what} {values:?} must have 2 entries")))
    };
    let kernel = pair(&attrs.kernel_shape, "kernel_shape")?;
    let strides = pair(&attrs.strides, "strides")?;
    let dilations = pair(&attrs.dilations, "dilations")?;
    let pads = resolve_auto_pads(
        attrs.auto_pad,
        &input,
        &kernel,
        &strides,
        &dilations,
        &attrs.pads,
    )?;
    let pads = <[usize; 4]>::try_from(pads.as_slice())
        .map_err(|_| shape_error(format!("pads {pads:?} must have 4 entries")))?;
    Ok(Pool2dOptions {
        kernel,
        strides,
        pads,
        dilations,
        ceil_mode: attrs.ceil_mode,
        count_include_pad: attrs.count_include_pad,
    })
}

fn x_values(x: &HostTensor) -> Result<Vec<i32>> {
    Ok(x.to_i64_vec("x")?.into_iter().map(|v| v as i32).collect())
}

/// `values` (in `dtype`'s range, as the references return them) as an int8 or uint8 tensor.
fn quantized_tensor(dtype: DType, shape: &[usize], values: Vec<i32>) -> Result<HostTensor> {
    let data = match dtype {
        DType::I8 => TensorData::I8(values.into_iter().map(|v| v as i8).collect()),
        _ => TensorData::U8(values.into_iter().map(|v| v as u8).collect()),
    };
    HostTensor::new(shape, data)
}

#[cfg(test)]
mod tests {
    use crate::graph::eval::eval_node;
    use crate::graph::{AutoPad, Node, Op, PoolAttrs};
    use crate::tensor::{HostTensor, TensorData};

    fn node(op: Op) -> Node {
        Node {
            name: "pool7".into(),
            op,
            inputs: (0..5).map(|i| Some(format!("in{i}"))).collect(),
            outputs: vec!["y".into()],
        }
    }

    /// Evaluates `op` on a 1×2×3×3 int8 input with the given scales and zero points.
    fn run(op: Op, scales: [f32; 2], zero_points: [TensorData; 2]) -> crate::Result<HostTensor> {
        let x = HostTensor::new(
            &[1, 2, 3, 3],
            TensorData::I8((0..18).map(|v| v * 7 - 60).collect()),
        )?;
        let [x_zero, y_zero] = zero_points.map(|data| HostTensor::new(&[], data).unwrap());
        let [x_scale, y_scale] = scales.map(|s| HostTensor::from_f32(&[], vec![s]).unwrap());
        let inputs = [
            Some(&x),
            Some(&x_scale),
            Some(&x_zero),
            Some(&y_scale),
            Some(&y_zero),
        ];
        Ok(eval_node(&node(op), &inputs)?.remove(0))
    }

    fn average() -> Op {
        Op::QLinearAveragePool(PoolAttrs {
            kernel_shape: vec![2, 2],
            strides: vec![1, 1],
            pads: vec![0; 4],
            dilations: vec![1, 1],
            ceil_mode: false,
            count_include_pad: false,
            auto_pad: AutoPad::NotSet,
        })
    }

    #[test]
    fn shapes_and_types_follow_the_input() {
        let zero_points = || [TensorData::I8(vec![-4]), TensorData::I8(vec![9])];
        let pooled = run(average(), [0.1, 0.3], zero_points()).unwrap();
        assert_eq!(pooled.shape(), [1, 2, 2, 2]);
        assert_eq!(pooled.dtype(), crate::tensor::DType::I8);
        let global = run(Op::QLinearGlobalAveragePool, [0.1, 0.3], zero_points()).unwrap();
        assert_eq!(global.shape(), [1, 2, 1, 1]);
        // Plane 0 holds −60, −53, …, −4 (sum −288); with x_zp = −4, Σ(q − zp) = −252 over 9 taps:
        // −28 · 0.1 / 0.3 = −9.33 rounds to −9, plus y_zp 9.
        assert_eq!(global.to_f64_vec()[0], -9.0 + 9.0);
    }

    #[test]
    fn bad_scales_and_zero_points_are_errors_naming_the_node() {
        let zeros = || [TensorData::I8(vec![0]), TensorData::I8(vec![0])];
        let cases = [
            (run(average(), [0.0, 0.3], zeros()), "x_scale"),
            (
                run(Op::QLinearGlobalAveragePool, [0.1, -1.0], zeros()),
                "y_scale",
            ),
            (
                run(
                    average(),
                    [0.1, 0.3],
                    [TensorData::U8(vec![3]), TensorData::I8(vec![0])],
                ),
                "x_zero_point",
            ),
        ];
        for (result, named) in cases {
            let error = result.expect_err("an error").to_string();
            assert!(error.contains("pool7") && error.contains(named), "{error}");
        }
    }
}
