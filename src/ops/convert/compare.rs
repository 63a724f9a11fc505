//! The comparisons: the CPU reference and the launcher of `shaders/convert_compare.wgsl`, which
//! reads both inputs through the element-wise broadcast plan and writes u8 booleans, four to a
//! thread.

use crate::device::{Binding, Gpu};
use crate::error::{Error, Result};
use crate::ops::convert::CONVERT_COMPARE;
use crate::ops::elementwise::{broadcast_output_shape, broadcast_params, reference_offset};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::tensor::element::is_float;
use crate::tensor::shape::broadcast_strides;
use crate::tensor::{DType, GpuTensor, HostTensor, TensorData};
use std::cmp::Ordering;

/// Element-wise comparisons, producing booleans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CompareOp {
    /// `a == b`.
    Equal,
    /// `a < b`.
    Less,
    /// `a <= b`.
    LessOrEqual,
    /// `a > b`.
    Greater,
    /// `a >= b`.
    GreaterOrEqual,
}

/// The input dtypes the GPU compares (both inputs alike).
pub const GPU_COMPARE_DTYPES: [DType; 2] = [DType::F32, DType::I32];

impl CompareOp {
    /// Whether the comparison holds for `ordering` (`None`: unordered, a NaN operand).
    fn holds(self, ordering: Option<Ordering>) -> bool {
        match self {
            CompareOp::Equal => ordering == Some(Ordering::Equal),
            CompareOp::Less => ordering == Some(Ordering::Less),
            CompareOp::LessOrEqual => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
            CompareOp::Greater => ordering == Some(Ordering::Greater),
            CompareOp::GreaterOrEqual => {
                matches!(ordering, Some(Ordering::Greater | Ordering::Equal))
            }
        }
    }
}

/// `a op b` with numpy broadcasting, for two tensors of one dtype (any): a Bool tensor. NaN is
/// unequal to everything and unordered, so every comparison with it is false.
pub fn reference_compare(op: CompareOp, a: &HostTensor, b: &HostTensor) -> Result<HostTensor> {
    if a.dtype() != b.dtype() {
        return Err(Error::DTypeMismatch {
            op: "Compare",
            expected: a.dtype(),
            got: b.dtype(),
        });
    }
    let shape = broadcast_output_shape("Compare", &[a.shape(), b.shape()])?;
    let (a_strides, b_strides) = (
        broadcast_strides(a.shape(), &shape),
        broadcast_strides(b.shape(), &shape),
    );
    let pairs = (0..shape.iter().product()).map(|index| {
        (
            reference_offset(index, &shape, &a_strides),
            reference_offset(index, &shape, &b_strides),
        )
    });
    let values: Vec<bool> = if is_float(a.dtype()) {
        let (x, y) = (a.to_f64_vec(), b.to_f64_vec());
        pairs
            .map(|(i, j)| op.holds(x[i].partial_cmp(&y[j])))
            .collect()
    } else {
        let (x, y) = (a.to_i64_vec("Compare")?, b.to_i64_vec("Compare")?);
        pairs
            .map(|(i, j)| op.holds(Some(x[i].cmp(&y[j]))))
            .collect()
    };
    HostTensor::new(&shape, TensorData::Bool(values))
}

/// The shader's `OP` code.
fn op_code(op: CompareOp) -> u32 {
    match op {
        CompareOp::Equal => 0,
        CompareOp::Less => 1,
        CompareOp::LessOrEqual => 2,
        CompareOp::Greater => 3,
        CompareOp::GreaterOrEqual => 4,
    }
}

/// `a op b` on the GPU with numpy broadcasting, for two f32 or two i32 tensors: a u8 tensor of 0
/// and 1 (ONNX bool). NaN compares false ([`reference_compare`]).
pub fn compare(gpu: &Gpu, op: CompareOp, a: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor> {
    if !GPU_COMPARE_DTYPES.contains(&a.dtype()) {
        return Err(Error::Unsupported {
            location: "Compare".into(),
            detail: format!("{} inputs on the GPU (it compares f32 and i32)", a.dtype()),
        });
    }
    b.expect_dtype("Compare", a.dtype())?;
    let inputs = [a.shape(), b.shape()];
    let shape = broadcast_output_shape("Compare", &inputs)?;
    let params = broadcast_params(&shape, &inputs)?;
    let output = GpuTensor::uninit(gpu, &shape, DType::U8)?;
    let count: usize = shape.iter().product();
    if count == 0 {
        return Ok(output);
    }
    let float_inputs = if a.dtype() == DType::F32 { 1.0 } else { 0.0 };
    let constants = [
        ("OP", f64::from(op_code(op))),
        ("FLOAT_INPUTS", float_inputs),
    ];
    let pipeline = gpu.pipeline(&CONVERT_COMPARE, &constants)?;
    let bindings = [
        (0, Binding::Uniform(bytemuck::bytes_of(&params))),
        (1, Binding::Storage(a.buffer())),
        (2, Binding::Storage(b.buffer())),
        (3, Binding::Storage(output.buffer())),
    ];
    let grid = grid_for(gpu, count.div_ceil(4), ELEMENTWISE_WORKGROUP)?;
    gpu.dispatch(&pipeline, &bindings, grid)?;
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_compares_nan_false() {
        let a = HostTensor::new(&[2], TensorData::F32(vec![f32::NAN, 1.0])).unwrap();
        let b = HostTensor::new(&[1], TensorData::F32(vec![f32::NAN])).unwrap();
        let equal = reference_compare(CompareOp::Equal, &a, &a).unwrap();
        assert_eq!(equal.data(), &TensorData::Bool(vec![false, true]));
        let less = reference_compare(CompareOp::LessOrEqual, &a, &b).unwrap();
        assert_eq!(less.data(), &TensorData::Bool(vec![false, false]));
        assert_eq!(op_code(CompareOp::GreaterOrEqual), 4);
    }
}
