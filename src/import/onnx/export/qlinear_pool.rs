//! QLinearAveragePool and QLinearGlobalAveragePool (onnxruntime's `com.microsoft` ops, which
//! standard ONNX lacks) written in standard ops: `DequantizeLinear(x, x_scale, x_zero_point) →
//! AveragePool / GlobalAveragePool → QuantizeLinear(y_scale, y_zero_point)`, the form the QDQ
//! lowering read them from. onnxruntime runs it in float, within one step of kiln's integer
//! result (the bound is derived in [`crate::ops::pooling::qlinear`]).

use super::nodes::pool_attributes;
use super::writer::NodeWriter;
use crate::error::{Error, Result};
use crate::graph::{Node, Op};

/// Writes the quantized average pool `node` as DQ → AveragePool/GlobalAveragePool → Q.
pub(super) fn write_qlinear_pool(writer: &mut NodeWriter, node: &Node) -> Result<()> {
    let (op_type, attributes) = match &node.op {
        Op::QLinearAveragePool(pool) => ("AveragePool", pool_attributes(pool, true)),
        Op::QLinearGlobalAveragePool => ("GlobalAveragePool", vec![]),
        other => {
            return Err(unsupported(
                node,
                format!("{} is not a quantized average pool", other.name()),
            ))
        }
    };
    let input = |index: usize| node.input(index).map(str::to_string);
    let (Some(x), Some(x_scale), Some(y_scale), Some(y_zero_point)) =
        (input(0), input(1), input(3), input(4))
    else {
        return Err(unsupported(
            node,
            "needs x, x_scale, y_scale and an explicit y_zero_point (a QuantizeLinear without \
             one writes uint8)"
                .into(),
        ));
    };
    let [output] = node.outputs.as_slice() else {
        return Err(unsupported(node, "must have exactly one output".into()));
    };
    let dequantized = writer.fresh_name(&format!("{}::dequantized", node.name));
    let pooled = writer.fresh_name(&format!("{}::pooled", node.name));
    let mut dq_inputs = vec![x, x_scale];
    dq_inputs.extend(input(2));
    writer.emit(
        &format!("{}::dequantize", node.name),
        "DequantizeLinear",
        dq_inputs,
        vec![dequantized.clone()],
        vec![],
    );
    writer.emit(
        &node.name,
        op_type,
        vec![dequantized],
        vec![pooled.clone()],
        attributes,
    );
    writer.emit(
        &format!("{}::quantize", node.name),
        "QuantizeLinear",
        vec![pooled, y_scale, y_zero_point],
        vec![output.clone()],
        vec![],
    );
    Ok(())
}

fn unsupported(node: &Node, detail: String) -> Error {
    Error::Unsupported {
        location: node.location(),
        detail: format!("exporting {}: {detail}", node.op.name()),
    }
}
