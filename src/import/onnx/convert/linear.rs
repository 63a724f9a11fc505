//! Products and quantization: MatMul, Gemm, MatMulInteger, QuantizeLinear, DequantizeLinear.

use super::{Converter, NodeContext};
use crate::error::Result;
use crate::graph::Op;
use crate::import::onnx::proto::data_type;
use crate::ops::Activation;
use crate::tensor::DType;

/// MatMul.
pub(super) fn matmul(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 2)?;
    Ok(Op::MatMul {
        activation: Activation::Identity,
    })
}

/// Gemm: `alpha`, `beta` default 1, no transposes.
pub(super) fn gemm(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 3)?;
    let attrs = &ctx.attrs;
    Ok(Op::Gemm {
        alpha: attrs.float_or("alpha", 1.0)?,
        beta: attrs.float_or("beta", 1.0)?,
        trans_a: attrs.bool_or("transA", false)?,
        trans_b: attrs.bool_or("transB", false)?,
        activation: Activation::Identity,
    })
}

/// MatMulInteger.
pub(super) fn matmul_integer(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 4)?;
    Ok(Op::MatMulInteger)
}

/// QuantizeLinear: per-tensor or per-axis (`axis`, default 1), int8 or uint8 output.
pub(super) fn quantize(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 3)?;
    reject_blocks(ctx)?;
    reject_non_f32(ctx, "precision")?;
    check_quantization(ctx, false)?;
    let output_dtype = ctx.attrs.int_or("output_dtype", 0)?;
    let zero_point_sets_type = ctx.has_input(2);
    let plain_output = output_dtype == 0
        || output_dtype == i64::from(data_type::UINT8)
        || (zero_point_sets_type && output_dtype == i64::from(data_type::INT8));
    if !plain_output {
        return Err(ctx.attrs.unsupported(
            "output_dtype",
            format!(
                "is {output_dtype}; kiln quantizes to UINT8, or to the zero point's INT8/UINT8"
            ),
        ));
    }
    Ok(Op::QuantizeLinear {
        axis: ctx.attrs.int_or("axis", 1)?,
        saturate: ctx.attrs.bool_or("saturate", true)?,
    })
}

/// DequantizeLinear: per-tensor or per-axis, to f32.
pub(super) fn dequantize(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(2, 3)?;
    reject_blocks(ctx)?;
    reject_non_f32(ctx, "output_dtype")?;
    check_quantization(ctx, true)?;
    Ok(Op::DequantizeLinear {
        axis: ctx.attrs.int_or("axis", 1)?,
    })
}

/// Checks the constant scale and zero point of a QuantizeLinear or DequantizeLinear (`dequantize`)
/// node: every scale finite and positive; an int8 or uint8 zero point (one of int32, all zero, on a
/// DequantizeLinear of int32 values, as onnxruntime's quantizer writes for biases; ONNX fixes it
/// at 0, so it is dropped); a zero point of the scale's shape; per-axis scales as many as the
/// constant input's axis holds. Each violation is an [`Error::InvalidModel`] naming the node.
fn check_quantization(ctx: &mut NodeContext, dequantize: bool) -> Result<()> {
    if let Some(scale) = ctx.constant_input(1) {
        if let Some(bad) = scale
            .to_f64_vec()
            .into_iter()
            .find(|s| !(s.is_finite() && *s > 0.0))
        {
            return Err(ctx.invalid(format!(
                "scale {bad}: every scale must be finite and positive"
            )));
        }
    }
    let scale_shape = ctx.constant_input(1).map(|scale| scale.shape().to_vec());
    if let Some(zero_point) = ctx.constant_input(2) {
        match zero_point.dtype() {
            DType::I8 | DType::U8 => {}
            DType::I32 if dequantize => {
                let values = zero_point.to_i64_vec("DequantizeLinear")?;
                if let Some(bad) = values.into_iter().find(|&v| v != 0) {
                    return Err(ctx.invalid(format!(
                        "int32 zero point {bad}: ONNX requires an int32 zero point to be 0"
                    )));
                }
                ctx.set_input(2, None);
                return check_axis_length(ctx, scale_shape);
            }
            other => {
                return Err(ctx.invalid(format!(
                    "zero point of type {other} is out of range: kiln quantizes to int8 or \
                     uint8 (and dequantizes int32 with zero point 0)"
                )))
            }
        }
        // One value each is per-tensor whatever the shapes ([] or [1]); otherwise they must agree.
        let mismatched = |shape: &[usize]| {
            let one = |dims: &[usize]| dims.iter().product::<usize>() == 1;
            shape != zero_point.shape() && !(one(shape) && one(zero_point.shape()))
        };
        if scale_shape.as_deref().is_some_and(mismatched) {
            return Err(ctx.invalid(format!(
                "zero point of shape {:?} for scales of shape {:?}: they must match",
                zero_point.shape(),
                scale_shape.unwrap_or_default()
            )));
        }
    }
    check_axis_length(ctx, scale_shape)
}

/// Per-axis scales (more than one) must number as many as the constant input's `axis` holds.
fn check_axis_length(ctx: &NodeContext, scale_shape: Option<Vec<usize>>) -> Result<()> {
    let (Some(scale_shape), Some(x)) = (scale_shape, ctx.constant_input(0)) else {
        return Ok(());
    };
    // One scale of shape [1] is per-tensor, whatever the axis (onnxruntime writes such biases).
    let [scale_len] = scale_shape[..] else {
        return Ok(());
    };
    if scale_len == 1 {
        return Ok(());
    }
    let rank = x.shape().len() as i64;
    let axis = ctx.attrs.int_or("axis", 1)?;
    let axis_len = usize::try_from(if axis < 0 { axis + rank } else { axis })
        .ok()
        .and_then(|axis| x.shape().get(axis).copied());
    match axis_len {
        Some(len) if len == scale_len => Ok(()),
        _ => Err(ctx.invalid(format!(
            "{scale_len} per-axis scales for axis {axis} of an input of shape {:?}",
            x.shape()
        ))),
    }
}

/// Opset 21 blocked quantization has no place in [`Op`]'s attributes.
fn reject_blocks(ctx: &NodeContext) -> Result<()> {
    match ctx.attrs.int_or("block_size", 0)? {
        0 => Ok(()),
        size => Err(ctx.attrs.unsupported(
            "block_size",
            format!("is {size}; kiln imports per-tensor and per-axis scales"),
        )),
    }
}

/// Opset 23 `precision` (QuantizeLinear) and `output_dtype` (DequantizeLinear): kiln computes
/// in f32, so only unset (0) or FLOAT is accepted.
fn reject_non_f32(ctx: &NodeContext, attr: &str) -> Result<()> {
    match ctx.attrs.int_or(attr, 0)? {
        0 => Ok(()),
        code if code == i64::from(data_type::FLOAT) => Ok(()),
        code => Err(ctx.attrs.unsupported(
            attr,
            format!("is {code}; kiln computes quantization in FLOAT"),
        )),
    }
}

/// The matrix-product family's converter of `op_type`.
pub(super) fn matmul_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "MatMul" => matmul,
        "Gemm" => gemm,
        "MatMulInteger" => matmul_integer,
        _ => return None,
    })
}

/// The quantization family's converter of `op_type` (QLinearConv reads conv attributes).
pub(super) fn quantize_family(op_type: &str) -> Option<Converter> {
    Some(match op_type {
        "QuantizeLinear" => quantize,
        "DequantizeLinear" => dequantize,
        "QLinearConv" => super::conv::qlinear_conv,
        "DynamicQuantizeLinear" => super::integer::dynamic_quantize_linear,
        "QLinearMatMul" => super::integer::qlinear_matmul,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::import::onnx::proto::TensorProto;
    use crate::import::onnx::tensor::tensor_to_proto;
    use crate::import::onnx::testing::{int, model, node, parse, parse_error};
    use crate::tensor::{HostTensor, TensorData};

    fn constant(name: &str, shape: &[usize], data: TensorData) -> TensorProto {
        tensor_to_proto(name, &HostTensor::new(shape, data).unwrap())
    }

    /// `y = DequantizeLinear(q, scale, zero)` over constants, as onnxruntime writes a bias.
    fn dequantize_model(q: TensorData, scale: Vec<f32>, zero: TensorData, axis: i64) -> String {
        let len = q.len();
        let scale_shape: &[usize] = if scale.len() == 1 {
            &[]
        } else {
            &[scale.len()]
        };
        let zero_shape = if zero.len() == 1 {
            vec![]
        } else {
            vec![zero.len()]
        };
        let dequantize = node(
            "DequantizeLinear",
            &["q", "s", "z"],
            &["y"],
            vec![int("axis", axis)],
        );
        let initializers = vec![
            constant("q", &[len], q),
            constant("s", scale_shape, TensorData::F32(scale)),
            constant("z", &zero_shape, zero),
        ];
        match parse(&model(13, vec![dequantize], initializers, &["y"])) {
            Ok(graph) => format!("ok {:?}", graph.nodes[0].inputs),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn an_all_zero_int32_zero_point_is_dropped() {
        let result = dequantize_model(
            TensorData::I32(vec![5, -7, 9]),
            vec![0.25],
            TensorData::I32(vec![0]),
            0,
        );
        assert_eq!(result, r#"ok [Some("q"), Some("s")]"#);
    }

    #[test]
    fn a_nonzero_int32_zero_point_is_an_error_naming_the_node() {
        let result = dequantize_model(
            TensorData::I32(vec![5, -7, 9]),
            vec![0.25],
            TensorData::I32(vec![3]),
            0,
        );
        assert!(result.contains("DequantizeLinear_node"), "{result}");
        assert!(result.contains("int32 zero point 3"), "{result}");
    }

    #[test]
    fn zero_and_negative_scales_are_errors_naming_the_node() {
        for (scale, shown) in [
            (0.0, "scale 0"),
            (-0.5, "scale -0.5"),
            (f32::NAN, "scale NaN"),
        ] {
            let result = dequantize_model(
                TensorData::I8(vec![1, 2]),
                vec![scale],
                TensorData::I8(vec![0]),
                0,
            );
            assert!(result.contains("DequantizeLinear_node"), "{result}");
            assert!(result.contains(shown), "{result}");
        }
    }

    #[test]
    fn zero_points_outside_int8_and_uint8_are_errors_naming_the_node() {
        let result = dequantize_model(
            TensorData::I8(vec![1, 2]),
            vec![0.5],
            TensorData::I64(vec![300]),
            0,
        );
        assert!(result.contains("DequantizeLinear_node"), "{result}");
        assert!(result.contains("out of range"), "{result}");
        let quantize = node("QuantizeLinear", &["x", "s", "z"], &["y"], vec![]);
        let initializers = vec![
            constant("s", &[], TensorData::F32(vec![0.5])),
            constant("z", &[], TensorData::I32(vec![0])),
        ];
        let message = parse_error(&model(13, vec![quantize], initializers, &["y"]));
        assert!(message.contains("QuantizeLinear_node"), "{message}");
        assert!(message.contains("out of range"), "{message}");
    }

    #[test]
    fn mismatched_per_channel_lengths_are_errors_naming_the_node() {
        let q = || TensorData::I8(vec![1, 2, 3, 4]);
        let short_scales =
            dequantize_model(q(), vec![0.5, 0.25, 1.0], TensorData::I8(vec![0; 3]), 0);
        assert!(
            short_scales.contains("DequantizeLinear_node"),
            "{short_scales}"
        );
        assert!(short_scales.contains("3 per-axis scales"), "{short_scales}");
        let short_zeros = dequantize_model(q(), vec![0.5; 4], TensorData::I8(vec![0, 0]), 0);
        assert!(
            short_zeros.contains("DequantizeLinear_node"),
            "{short_zeros}"
        );
        assert!(short_zeros.contains("must match"), "{short_zeros}");
        let fitting = dequantize_model(q(), vec![0.5; 4], TensorData::I8(vec![0; 4]), 0);
        assert!(fitting.starts_with("ok"), "{fitting}");
    }
}
