//! ONNX `DynamicQuantizeLinear` (opset 11): f32 `x` to uint8 with a scale and zero point computed
//! from `x` itself at run time, exactly by ONNX's formula:
//!
//! ```text
//! x_max = max(0, max(x)), x_min = min(0, min(x))
//! y_scale = (x_max == x_min ? 1 : x_max − x_min) / 255
//! y_zero_point = round_half_even(clamp(0 − x_min / y_scale, 0, 255))
//! y = clamp(round_half_even(x / y_scale) + y_zero_point, 0, 255)
//! ```
//!
//! The range always contains 0, so 0 is represented exactly. Every step is an IEEE f32 operation,
//! and the GPU (`shaders/quantize_dynamic_*.wgsl`) divides with a correctly rounded integer long
//! division (`shaders/div_rn.wgsl`) instead of WGSL's 2.5-ULP `/`, so its three outputs equal the
//! reference's bit for bit. NaN elements are left out of the range and quantize to the zero
//! point; infinite elements give unspecified (never unsafe) results.

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::Result;
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::quant::quantize_u8;
use crate::tensor::{DType, GpuTensor};

const DIV_RN_WGSL: &str = include_str!("../../../shaders/div_rn.wgsl");

/// Step 1: the scale and zero point of `x`, in one workgroup.
pub const DYNAMIC_QUANTIZE_RANGE: ShaderProgram = ShaderProgram {
    name: "dynamic_quantize_range",
    parts: &[
        DIV_RN_WGSL,
        include_str!("../../../shaders/quantize_dynamic_range.wgsl"),
    ],
    needs_f16: false,
};

/// Step 2: `x` quantized with the scale and zero point step 1 left on the device.
pub const DYNAMIC_QUANTIZE_APPLY: ShaderProgram = ShaderProgram {
    name: "dynamic_quantize_apply",
    parts: &[
        DIV_RN_WGSL,
        include_str!("../../../shaders/quantize_dynamic_apply.wgsl"),
    ],
    needs_f16: false,
};

/// `DynamicQuantizeLinear`'s three outputs on the host.
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicQuantized {
    /// `y`, one uint8 per element of `x`.
    pub values: Vec<u8>,
    /// `y_scale`.
    pub scale: f32,
    /// `y_zero_point`.
    pub zero_point: u8,
}

/// The CPU reference: ONNX's formula (module docs) in f32, element by element.
pub fn reference_dynamic_quantize_linear(x: &[f32]) -> DynamicQuantized {
    // f32::max and f32::min return the other operand for NaN, which leaves NaN out of the range.
    let x_max = x.iter().fold(0.0f32, |high, &value| high.max(value));
    let x_min = x.iter().fold(0.0f32, |low, &value| low.min(value));
    let range = if x_max == x_min { 1.0 } else { x_max - x_min };
    let scale = range / 255.0;
    let zero_point = (0.0 - x_min / scale).clamp(0.0, 255.0).round_ties_even() as u8;
    DynamicQuantized {
        values: x
            .iter()
            .map(|&value| quantize_u8(value, scale, zero_point))
            .collect(),
        scale,
        zero_point,
    }
}

/// `DynamicQuantizeLinear` on the GPU: `(y, y_scale, y_zero_point)` of f32 `x`, shaped like `x`,
/// `[]` and `[]`, in two dispatches (range, then quantize) that keep the scale and zero point on
/// the device. Reference: [`reference_dynamic_quantize_linear`], matched bit for bit.
pub fn dynamic_quantize_linear(gpu: &Gpu, x: &GpuTensor) -> Result<[GpuTensor; 3]> {
    const OP: &str = "dynamic_quantize_linear";
    x.expect_dtype(OP, DType::F32)?;
    let count = to_u32("DynamicQuantizeLinear elements", x.len())?;
    let scale = GpuTensor::uninit(gpu, &[], DType::F32)?;
    let zero_point = GpuTensor::uninit(gpu, &[], DType::U8)?;
    let y = GpuTensor::uninit(gpu, x.shape(), DType::U8)?;
    let range = gpu.pipeline(&DYNAMIC_QUANTIZE_RANGE, &[])?;
    let params = [count];
    let range_bindings = [
        (0, Binding::Storage(x.buffer())),
        (1, Binding::Storage(scale.buffer())),
        (2, Binding::Storage(zero_point.buffer())),
        (3, Binding::Uniform(bytemuck::cast_slice(&params))),
    ];
    gpu.dispatch(&range, &range_bindings, [1, 1, 1])?;
    if count > 0 {
        let apply = gpu.pipeline(&DYNAMIC_QUANTIZE_APPLY, &[])?;
        let apply_bindings = [
            (0, Binding::Storage(x.buffer())),
            (1, Binding::Storage(scale.buffer())),
            (2, Binding::Storage(zero_point.buffer())),
            (3, Binding::Uniform(bytemuck::cast_slice(&params))),
            (4, Binding::Storage(y.buffer())),
        ];
        let words = x.len().div_ceil(4);
        let grid = grid_for(gpu, words, ELEMENTWISE_WORKGROUP)?;
        gpu.dispatch(&apply, &apply_bindings, grid)?;
    }
    Ok([y, scale, zero_point])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_always_contains_zero() {
        // All positive: x_min is 0, so the zero point is 0 and 0 stays exact.
        let positive = reference_dynamic_quantize_linear(&[1.0, 2.0, 2.55]);
        assert_eq!(positive.scale, 2.55f32 / 255.0);
        assert_eq!(positive.zero_point, 0);
        assert_eq!(positive.values, [100, 200, 255]);
        // All negative: x_max is 0, the zero point is 255.
        let negative = reference_dynamic_quantize_linear(&[-2.55, -1.0]);
        assert_eq!(negative.zero_point, 255);
        assert_eq!(negative.values, [0, 155]);
    }

    #[test]
    fn onnx_conformance_case() {
        // onnx/backend/test/case/node/dynamicquantizelinear.py, first case.
        let x = [0.0, 2.0, -3.0, -2.5, 1.34, 0.5];
        let y = reference_dynamic_quantize_linear(&x);
        assert_eq!(y.scale, (2.0f32 + 3.0) / 255.0);
        assert_eq!(y.zero_point, 153);
        assert_eq!(y.values, [153, 255, 0, 26, 221, 179]);
    }

    #[test]
    fn all_zero_and_empty_inputs_take_scale_one_over_255() {
        for x in [&[0.0f32, 0.0][..], &[]] {
            let y = reference_dynamic_quantize_linear(x);
            assert_eq!((y.scale, y.zero_point), (1.0 / 255.0, 0));
            assert!(y.values.iter().all(|&q| q == 0));
        }
    }

    #[test]
    fn nan_is_left_out_of_the_range_and_gives_the_zero_point() {
        let y = reference_dynamic_quantize_linear(&[f32::NAN, -1.0, 1.0]);
        assert_eq!(y.scale, 2.0 / 255.0);
        assert_eq!(y.values[0], y.zero_point);
    }
}
