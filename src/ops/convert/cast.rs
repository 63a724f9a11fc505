//! Cast and Not: the CPU references and the launcher of `shaders/convert_cast.wgsl`, which converts
//! element by element and packs sub-word outputs one whole u32 word per thread.

use crate::device::{Binding, Gpu};
use crate::error::{Error, Result};
use crate::ops::convert::CONVERT_CAST;
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::element::{elements, is_float, tensor_from_f64, tensor_from_i64};
use crate::tensor::{DType, GpuTensor, HostTensor, TensorData};

/// The dtypes Cast takes and gives on the GPU (Bool is stored as u8; i64 has no kernel).
pub const GPU_CAST_DTYPES: [DType; 6] = [
    DType::F32,
    DType::F16,
    DType::I32,
    DType::I8,
    DType::U8,
    DType::Bool,
];

/// `OUTPUT_KIND` of the shader that writes 1 for non-zero (Cast to bool).
const KIND_BOOL: u32 = 5;
/// `OUTPUT_KIND` of the shader that writes 1 for zero (Not).
const KIND_NOT: u32 = 6;

/// `CastParams` in `convert_cast.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct CastParams {
    count: u32,
    word_count: u32,
    pad: [u32; 2],
}

/// ONNX Cast of `x` to `to`, between every pair of dtypes, as numpy's `astype`: floats to
/// integers truncate toward zero (saturating; NaN gives 0), integers wrap, anything non-zero is
/// `true`.
pub fn reference_cast(x: &HostTensor, to: DType) -> Result<HostTensor> {
    if x.dtype() == to {
        Ok(x.clone())
    } else if is_float(x.dtype()) {
        tensor_from_f64(to, x.shape(), x.to_f64_vec())
    } else {
        tensor_from_i64(to, x.shape(), x.to_i64_vec("Cast")?)
    }
}

/// ONNX Not of a Bool tensor; another dtype is an error.
pub fn reference_not(x: &HostTensor) -> Result<HostTensor> {
    let negated = elements::<bool>(x, "Not's input")?.iter().map(|&v| !v);
    HostTensor::new(x.shape(), TensorData::Bool(negated.collect()))
}

/// The shader's kind code of a stored dtype (a bool input is its u8 storage, 0 or 1).
fn input_kind(dtype: DType) -> Option<u32> {
    match dtype {
        DType::F32 => Some(0),
        DType::F16 => Some(1),
        DType::I32 => Some(2),
        DType::I8 => Some(3),
        DType::U8 | DType::Bool => Some(4),
        DType::I64 => None,
    }
}

/// ONNX Cast on the GPU: `x` (f32, f16, i32, i8, u8; bool as u8) converted to `to` as
/// [`reference_cast`] does; Cast to Bool gives a u8 tensor of 0 and 1. Errors: [`Error::Unsupported`]
/// for i64 on either side.
pub fn cast(gpu: &Gpu, x: &GpuTensor, to: DType) -> Result<GpuTensor> {
    let unsupported = |dtype: DType| Error::Unsupported {
        location: "Cast".into(),
        detail: format!("{dtype} on the GPU (Cast there takes f32, f16, i32, i8, u8 and bool)"),
    };
    let from = input_kind(x.dtype()).ok_or_else(|| unsupported(x.dtype()))?;
    let (output_kind, stored) = match to {
        DType::Bool => (KIND_BOOL, DType::U8),
        other => (input_kind(other).ok_or_else(|| unsupported(other))?, other),
    };
    launch(gpu, x, from, output_kind, stored)
}

/// ONNX Not on the GPU: a bool tensor (u8, 0 or 1; any non-zero byte counts as true) negated.
pub fn not(gpu: &Gpu, x: &GpuTensor) -> Result<GpuTensor> {
    if !matches!(x.dtype(), DType::U8 | DType::Bool) {
        return Err(Error::DTypeMismatch {
            op: "Not",
            expected: DType::U8,
            got: x.dtype(),
        });
    }
    launch(gpu, x, 4, KIND_NOT, DType::U8)
}

/// Records one `convert_cast` dispatch from `x` (kind `input_kind`) to a new tensor of `stored`.
fn launch(
    gpu: &Gpu,
    x: &GpuTensor,
    input_kind: u32,
    output_kind: u32,
    stored: DType,
) -> Result<GpuTensor> {
    let output = GpuTensor::uninit(gpu, x.shape(), stored)?;
    let count: usize = x.shape().iter().product();
    if count == 0 {
        return Ok(output);
    }
    let word_count = (count * stored.size_bytes()).div_ceil(4);
    let params = CastParams {
        count: to_u32("Cast elements", count)?,
        word_count: to_u32("Cast output words", word_count)?,
        pad: [0; 2],
    };
    let constants = [
        ("INPUT_KIND", f64::from(input_kind)),
        ("OUTPUT_KIND", f64::from(output_kind)),
    ];
    let pipeline = gpu.pipeline(&CONVERT_CAST, &constants)?;
    let bindings = [
        (0, Binding::Uniform(bytemuck::bytes_of(&params))),
        (1, Binding::Storage(x.buffer())),
        (2, Binding::Storage(output.buffer())),
    ];
    let grid = grid_for(gpu, word_count, ELEMENTWISE_WORKGROUP)?;
    gpu.dispatch(&pipeline, &bindings, grid)?;
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_the_cpu_backend() {
        let x = HostTensor::new(&[4], TensorData::F32(vec![2.9, -2.9, 300.0, f32::NAN])).unwrap();
        let y = reference_cast(&x, DType::I8).unwrap();
        assert_eq!(y.data(), &TensorData::I8(vec![2, -2, 127, 0]));
        let flags = HostTensor::new(&[2], TensorData::Bool(vec![true, false])).unwrap();
        let negated = reference_not(&flags).unwrap();
        assert_eq!(negated.data(), &TensorData::Bool(vec![false, true]));
    }

    #[test]
    fn every_gpu_dtype_has_a_kind_but_i64() {
        for dtype in GPU_CAST_DTYPES {
            assert!(input_kind(dtype).is_some(), "{dtype}");
        }
        assert_eq!(input_kind(DType::I64), None);
    }
}
