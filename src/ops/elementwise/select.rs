//! ONNX Where: `condition ? x : y` with numpy broadcasting across all three inputs; the condition
//! is a u8 tensor (ONNX bool, any non-zero byte is true).

use crate::device::Gpu;
use crate::error::Result;
use crate::ops::elementwise::broadcast::{
    broadcast_output_shape, broadcast_params, launch_elementwise, reference_offset,
};
use crate::ops::elementwise::{ElementwiseReference, ELEMENTWISE_WHERE};
use crate::tensor::shape::broadcast_strides;
use crate::tensor::{DType, GpuTensor};

/// The reference of Where: each output element copies x or y exactly (bound 0).
pub fn reference_select(
    condition: (&[u8], &[usize]),
    x: (&[f32], &[usize]),
    y: (&[f32], &[usize]),
) -> Result<ElementwiseReference> {
    let shape = broadcast_output_shape("Where", &[condition.1, x.1, y.1])?;
    let count: usize = shape.iter().product();
    let strides = [condition.1, x.1, y.1].map(|input| broadcast_strides(input, &shape));
    let output = (0..count)
        .map(|index| {
            let offset = |input: usize| reference_offset(index, &shape, &strides[input]);
            let chosen = if condition.0[offset(0)] != 0 {
                x.0[offset(1)]
            } else {
                y.0[offset(2)]
            };
            f64::from(chosen)
        })
        .collect();
    Ok(ElementwiseReference {
        shape,
        output,
        error_bound: vec![0.0; count],
    })
}

/// ONNX Where on the GPU: `condition` (u8) picks between `x` and `y` (f32), all three broadcast
/// together. NaN and ±inf are copied unchanged.
pub fn select(gpu: &Gpu, condition: &GpuTensor, x: &GpuTensor, y: &GpuTensor) -> Result<GpuTensor> {
    condition.expect_dtype("Where", DType::U8)?;
    x.expect_dtype("Where", DType::F32)?;
    y.expect_dtype("Where", DType::F32)?;
    let inputs = [condition.shape(), x.shape(), y.shape()];
    let shape = broadcast_output_shape("Where", &inputs)?;
    let params = broadcast_params(&shape, &inputs)?;
    let output = GpuTensor::uninit(gpu, &shape, DType::F32)?;
    launch_elementwise(
        gpu,
        &ELEMENTWISE_WHERE,
        &[],
        &params,
        &[condition.buffer(), x.buffer(), y.buffer()],
        output.buffer(),
    )?;
    Ok(output)
}
