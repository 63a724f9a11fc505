//! The integer element-wise ops as standard ONNX (no `com.microsoft` contrib op): QLinearAdd /
//! QLinearMul as `DequantizeLinear`s → `Add`/`Mul` → `QuantizeLinear`, QLinearConcat as
//! `DequantizeLinear`s → `Concat` → `QuantizeLinear` (the float path they were lowered from, which
//! they match within one output step), and LookupTable exactly as `Cast` to int32 → (`Add` 128
//! for int8) → `Gather` from the table initializer.

use super::writer::{int_attribute, NodeWriter};
use crate::error::{Error, Result};
use crate::graph::{Node, Op};
use crate::import::onnx::tensor::dtype_code;
use crate::ops::quantized_elementwise::QLinearBinaryOp;
use crate::tensor::{DType, HostTensor};

/// Writes QLinearBinary, QLinearConcat or LookupTable `node` in standard ONNX ops.
pub(super) fn write_quantized_elementwise(writer: &mut NodeWriter, node: &Node) -> Result<()> {
    match &node.op {
        Op::QLinearBinary { op } => write_binary(writer, node, *op),
        Op::QLinearConcat { axis } => write_concat(writer, node, *axis),
        Op::LookupTable { x_dtype } => write_lookup(writer, node, *x_dtype),
        other => Err(invalid(
            node,
            format!("{} is not an integer element-wise op", other.name()),
        )),
    }
}

fn write_binary(writer: &mut NodeWriter, node: &Node, op: QLinearBinaryOp) -> Result<()> {
    let a = dequantize(writer, node, 0, "a")?;
    let b = dequantize(writer, node, 3, "b")?;
    let float_op = match op {
        QLinearBinaryOp::Add => "Add",
        QLinearBinaryOp::Mul => "Mul",
    };
    let float = writer.fresh_name(&format!("{}::float", output(node)?));
    writer.emit(
        &node.name,
        float_op,
        vec![a, b],
        vec![float.clone()],
        vec![],
    );
    quantize(writer, node, float, 6)
}

fn write_concat(writer: &mut NodeWriter, node: &Node, axis: i64) -> Result<()> {
    if node.inputs.len() < 5 || !(node.inputs.len() - 2).is_multiple_of(3) {
        return Err(invalid(
            node,
            format!("{} inputs, not 2 + 3·k", node.inputs.len()),
        ));
    }
    let parts = (2..node.inputs.len())
        .step_by(3)
        .map(|index| dequantize(writer, node, index, &format!("x{}", (index - 2) / 3)))
        .collect::<Result<Vec<_>>>()?;
    let float = writer.fresh_name(&format!("{}::float", output(node)?));
    let attributes = vec![int_attribute("axis", axis)];
    writer.emit(&node.name, "Concat", parts, vec![float.clone()], attributes);
    quantize(writer, node, float, 0)
}

fn write_lookup(writer: &mut NodeWriter, node: &Node, x_dtype: DType) -> Result<()> {
    let (x, table) = (input(node, 0)?, input(node, 1)?);
    let wide = writer.fresh_name(&format!("{x}::int32"));
    let to = int_attribute("to", i64::from(dtype_code(DType::I32)));
    let cast_name = format!("{}::widen", node.name);
    writer.emit(&cast_name, "Cast", vec![x], vec![wide.clone()], vec![to]);
    let index = match x_dtype {
        DType::U8 => wide,
        DType::I8 => {
            let origin = HostTensor::new(&[], crate::tensor::TensorData::I32(vec![128]))?;
            let origin = writer.constant(&format!("{}::origin", node.name), &origin);
            let index = writer.fresh_name(&format!("{}::index", node.name));
            let add_name = format!("{}::offset", node.name);
            writer.emit(
                &add_name,
                "Add",
                vec![wide, origin],
                vec![index.clone()],
                vec![],
            );
            index
        }
        other => return Err(invalid(node, format!("x of type {other}"))),
    };
    let axis = vec![int_attribute("axis", 0)];
    writer.emit(
        &node.name,
        "Gather",
        vec![table, index],
        vec![output(node)?],
        axis,
    );
    Ok(())
}

/// A `DequantizeLinear` of input `index` with the scale and zero point after it; returns the
/// float value's name.
fn dequantize(writer: &mut NodeWriter, node: &Node, index: usize, what: &str) -> Result<String> {
    let inputs = vec![
        input(node, index)?,
        input(node, index + 1)?,
        input(node, index + 2)?,
    ];
    let float = writer.fresh_name(&format!("{}::{what}_float", node.name));
    let name = format!("{}::dequantize_{what}", node.name);
    writer.emit(
        &name,
        "DequantizeLinear",
        inputs,
        vec![float.clone()],
        vec![],
    );
    Ok(float)
}

/// The `QuantizeLinear` of `float` to the node's output, with the scale at input `index` and the
/// zero point after it.
fn quantize(writer: &mut NodeWriter, node: &Node, float: String, index: usize) -> Result<()> {
    let inputs = vec![float, input(node, index)?, input(node, index + 1)?];
    let name = format!("{}::quantize", node.name);
    writer.emit(&name, "QuantizeLinear", inputs, vec![output(node)?], vec![]);
    Ok(())
}

fn input(node: &Node, index: usize) -> Result<String> {
    node.input(index)
        .map(str::to_string)
        .ok_or_else(|| invalid(node, format!("input {index} is missing")))
}

fn output(node: &Node) -> Result<String> {
    match node.outputs.as_slice() {
        [output] => Ok(output.clone()),
        outputs => Err(invalid(node, format!("{} outputs, not one", outputs.len()))),
    }
}

fn invalid(node: &Node, detail: String) -> Error {
    Error::InvalidModel {
        location: node.location(),
        detail: format!("cannot export {}: {detail}", node.op.name()),
    }
}
