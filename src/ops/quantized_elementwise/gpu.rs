//! The GPU launchers of the integer element-wise ops: operands checked here, arithmetic in
//! `shaders/quantized_elementwise.wgsl` and `shaders/quantized_lookup.wgsl`.

use super::{
    QLinearBinaryOp, Requantization, TensorQuantization, QUANTIZED_ELEMENTWISE, QUANTIZED_LOOKUP,
    REQUANTIZE_CODE,
};
use crate::device::{Binding, Gpu};
use crate::error::{Error, Result};
use crate::ops::elementwise::{broadcast_output_shape, broadcast_params};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::{DType, GpuTensor};

/// `Requantization` of `shaders/quantized_elementwise.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct RequantUniforms {
    a_zero: i32,
    b_zero: i32,
    y_zero: i32,
    words: u32,
    a_multiplier: f32,
    b_multiplier: f32,
    pad: [u32; 2],
}

/// `LookupParams` of `shaders/quantized_lookup.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct LookupUniforms {
    count: u32,
    pad: [u32; 3],
}

/// QLinearAdd or QLinearMul on the GPU: `a` and `b` (int8/uint8, quantized per `a_quant` and
/// `b_quant`, broadcast together) to an int8/uint8 tensor quantized per `output`.
pub fn qlinear_binary(
    gpu: &Gpu,
    op: QLinearBinaryOp,
    (a, a_quant): (&GpuTensor, &TensorQuantization),
    (b, b_quant): (&GpuTensor, &TensorQuantization),
    output: &TensorQuantization,
) -> Result<GpuTensor> {
    let name = op.name();
    check_operand(name, "a", a, a_quant)?;
    check_operand(name, "b", b, b_quant)?;
    output.check(name, "y")?;
    let requant = Requantization::binary(op, a_quant.scale, b_quant.scale, output.scale);
    launch(
        gpu,
        op.code(),
        [(a, a_quant), (b, b_quant)],
        output,
        &requant,
    )
}

/// `x` (int8/uint8 quantized per `x_quant`) requantized to `output` on the GPU.
pub fn requantize(
    gpu: &Gpu,
    x: &GpuTensor,
    x_quant: &TensorQuantization,
    output: &TensorQuantization,
) -> Result<GpuTensor> {
    const OP: &str = "requantize";
    check_operand(OP, "x", x, x_quant)?;
    output.check(OP, "y")?;
    let requant = Requantization::single(x_quant.scale, output.scale);
    launch(
        gpu,
        REQUANTIZE_CODE,
        [(x, x_quant), (x, x_quant)],
        output,
        &requant,
    )
}

fn launch(
    gpu: &Gpu,
    code: u32,
    [(a, a_quant), (b, b_quant)]: [(&GpuTensor, &TensorQuantization); 2],
    output: &TensorQuantization,
    requant: &Requantization,
) -> Result<GpuTensor> {
    let name = "quantized_elementwise";
    let shape = broadcast_output_shape(name, &[a.shape(), b.shape()])?;
    let params = broadcast_params(&shape, &[a.shape(), b.shape()])?;
    let y = GpuTensor::uninit(gpu, &shape, output.dtype)?;
    let count: usize = shape.iter().product();
    if count == 0 {
        return Ok(y);
    }
    let words = count.div_ceil(4);
    let uniforms = RequantUniforms {
        a_zero: a_quant.zero_point,
        b_zero: b_quant.zero_point,
        y_zero: output.zero_point,
        words: to_u32("quantized element-wise output words", words)?,
        a_multiplier: requant.a_multiplier,
        b_multiplier: requant.b_multiplier,
        pad: [0; 2],
    };
    let signed = |dtype: DType| f64::from(u8::from(dtype == DType::I8));
    let constants = [
        ("OP", f64::from(code)),
        ("A_SIGNED", signed(a_quant.dtype)),
        ("B_SIGNED", signed(b_quant.dtype)),
        ("Y_SIGNED", signed(output.dtype)),
    ];
    let pipeline = gpu.pipeline(&QUANTIZED_ELEMENTWISE, &constants)?;
    let bindings = [
        (0, Binding::Uniform(bytemuck::bytes_of(&params))),
        (1, Binding::Storage(a.buffer())),
        (2, Binding::Storage(b.buffer())),
        (3, Binding::Storage(y.buffer())),
        (4, Binding::Uniform(bytemuck::bytes_of(&uniforms))),
    ];
    let grid = grid_for(gpu, words, ELEMENTWISE_WORKGROUP)?;
    gpu.dispatch(&pipeline, &bindings, grid)?;
    Ok(y)
}

/// `table[x − min(x's dtype)]` on the GPU: `x` int8/uint8, `table` 256 int8/uint8 entries; the
/// output has x's shape and the table's dtype.
pub fn lookup_table(gpu: &Gpu, x: &GpuTensor, table: &GpuTensor) -> Result<GpuTensor> {
    const OP: &str = "lookup_table";
    for (tensor, what) in [(x, "x"), (table, "table")] {
        if !matches!(tensor.dtype(), DType::I8 | DType::U8) {
            return Err(Error::InvalidArgument {
                op: OP,
                detail: format!("{what} must be int8 or uint8, not {}", tensor.dtype()),
            });
        }
    }
    if table.len() != 256 {
        return Err(Error::ShapeMismatch {
            op: OP,
            detail: format!("the table has {} entries, not 256", table.len()),
        });
    }
    let y = GpuTensor::uninit(gpu, x.shape(), table.dtype())?;
    if x.is_empty() {
        return Ok(y);
    }
    let uniforms = LookupUniforms {
        count: to_u32("lookup table elements", x.len())?,
        pad: [0; 3],
    };
    let signed = f64::from(u8::from(x.dtype() == DType::I8));
    let pipeline = gpu.pipeline(&QUANTIZED_LOOKUP, &[("X_SIGNED", signed)])?;
    let bindings = [
        (0, Binding::Storage(x.buffer())),
        (1, Binding::Storage(table.buffer())),
        (2, Binding::Storage(y.buffer())),
        (3, Binding::Uniform(bytemuck::bytes_of(&uniforms))),
    ];
    let grid = grid_for(gpu, x.len().div_ceil(4), ELEMENTWISE_WORKGROUP)?;
    gpu.dispatch(&pipeline, &bindings, grid)?;
    Ok(y)
}

fn check_operand(
    op: &'static str,
    what: &str,
    tensor: &GpuTensor,
    quant: &TensorQuantization,
) -> Result<()> {
    quant.check(op, what)?;
    if tensor.dtype() != quant.dtype {
        return Err(Error::DTypeMismatch {
            op,
            expected: quant.dtype,
            got: tensor.dtype(),
        });
    }
    Ok(())
}
