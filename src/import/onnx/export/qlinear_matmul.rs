//! QLinearMatMul written back as the standard QDQ form it computes, the form onnxruntime's
//! `quantize_static` writes and every runtime runs:
//!
//! ```text
//! DequantizeLinear(a) ─┐
//! DequantizeLinear(b) ─┴─ MatMul ─ Add(DequantizeLinear(bias, a_scale · b_scale)) ─ [Relu]
//!                                                    ─ QuantizeLinear(y_scale, y_zero_point)
//! ```
//!
//! `b`'s scales and zero points are per column, so its DequantizeLinear takes `axis = 1`, and the
//! bias's scale is the product `a_scale · b_scale`, written as a Mul node. Why not ONNX's own
//! QLinearMatMul where the node has no bias or Relu: onnxruntime (1.32) implements it only for
//! some type combinations (not uint8 `a` with an int8 output, for one), while this form runs
//! everywhere and rounds as the lowering's float path does (within one output step).

use super::writer::{int_attribute, NodeWriter};
use crate::error::{Error, Result};
use crate::graph::Node;
use crate::ops::Activation;

/// Writes QLinearMatMul `node` as `DQ → MatMul → [Add] → [Relu] → Q`.
pub(super) fn write_expanded(
    writer: &mut NodeWriter,
    node: &Node,
    activation: Activation,
) -> Result<()> {
    let input = |index: usize| -> Result<String> {
        node.input(index)
            .map(str::to_string)
            .ok_or_else(|| Error::Unsupported {
                location: node.location(),
                detail: format!("QLinearMatMul input {index} is missing"),
            })
    };
    let output = node
        .outputs
        .first()
        .cloned()
        .ok_or_else(|| Error::Unsupported {
            location: node.location(),
            detail: "QLinearMatMul has no output".into(),
        })?;
    let name =
        |writer: &mut NodeWriter, what: &str| writer.fresh_name(&format!("{}::{what}", node.name));
    let a = name(writer, "a");
    let b = name(writer, "b");
    let product = name(writer, "product");
    let axis = |value: i64| vec![int_attribute("axis", value)];
    writer.emit(
        &a,
        "DequantizeLinear",
        vec![input(0)?, input(1)?, input(2)?],
        vec![a.clone()],
        axis(1),
    );
    writer.emit(
        &b,
        "DequantizeLinear",
        vec![input(3)?, input(4)?, input(5)?],
        vec![b.clone()],
        axis(1),
    );
    writer.emit(
        &product,
        "MatMul",
        vec![a, b],
        vec![product.clone()],
        vec![],
    );
    let mut value = product;
    if let Some(bias) = node.input(8) {
        let (bias_scale, bias_value, sum) = (
            name(writer, "bias_scale"),
            name(writer, "bias"),
            name(writer, "sum"),
        );
        writer.emit(
            &bias_scale,
            "Mul",
            vec![input(1)?, input(4)?],
            vec![bias_scale.clone()],
            vec![],
        );
        let bias_inputs = vec![bias.to_string(), bias_scale];
        writer.emit(
            &bias_value,
            "DequantizeLinear",
            bias_inputs,
            vec![bias_value.clone()],
            axis(0),
        );
        writer.emit(
            &sum,
            "Add",
            vec![value, bias_value],
            vec![sum.clone()],
            vec![],
        );
        value = sum;
    }
    match activation {
        Activation::Identity => {}
        Activation::Relu => {
            let relu = name(writer, "relu");
            writer.emit(&relu, "Relu", vec![value], vec![relu.clone()], vec![]);
            value = relu;
        }
        other => {
            return Err(Error::Unsupported {
                location: node.location(),
                detail: format!("a QLinearMatMul with a fused {other:?} has no ONNX form"),
            })
        }
    }
    let quantize_inputs = vec![value, input(6)?, input(7)?];
    writer.emit(
        &node.name,
        "QuantizeLinear",
        quantize_inputs,
        vec![output],
        axis(1),
    );
    Ok(())
}
