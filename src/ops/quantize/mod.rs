//! QuantizeLinear and DequantizeLinear (ONNX opset 21): f32 ↔ int8 / uint8 (and int32 → f32),
//! per tensor, per axis or in blocks along an axis ([`QdqLayout`]).
//!
//! What kiln computes, on the GPU and in the reference alike:
//! - quantize: `saturate(round_half_even(x / scale) + zero_point)`; NaN gives the zero point,
//!   `±inf` saturates to the type's bounds. The output dtype is the zero point's, or
//!   `output_dtype`, or uint8 (ONNX's default).
//! - dequantize: `(q − zero_point) · scale`; an int32 input takes no zero point (ONNX fixes it at 0).
//!
//! Exactness: dequantize is the correctly rounded product for 8-bit inputs
//! ([`dequantize_tolerances`]). Quantize is exact except where WGSL's 2.5-ULP division may land a
//! quotient on the other side of a .5 boundary ([`quotient_near_tie`]), where it may differ by one.
//! Scales should be finite, positive and normal; others give unspecified (never unsafe) results.

mod dynamic;
mod layout;
mod reference;

pub use dynamic::{
    dynamic_quantize_linear, reference_dynamic_quantize_linear, DynamicQuantized,
    DYNAMIC_QUANTIZE_APPLY, DYNAMIC_QUANTIZE_RANGE,
};

pub use layout::{quotient_near_tie, Granularity, QdqAttributes, QdqLayout};
pub use reference::{
    dequantize_tolerances, reference_dequantize_linear, reference_quantize_linear,
};

use crate::device::{Binding, Gpu, OverrideConstant, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::{DType, GpuTensor};

const COMMON_WGSL: &str = include_str!("../../../shaders/quantize_common.wgsl");

/// QuantizeLinear: f32 to int8 or uint8, four outputs (one u32 word) per thread.
pub const QUANTIZE_LINEAR: ShaderProgram = ShaderProgram {
    name: "quantize_linear",
    parts: &[
        COMMON_WGSL,
        include_str!("../../../shaders/quantize_linear.wgsl"),
    ],
    needs_f16: false,
};

/// DequantizeLinear: int8, uint8 or int32 to f32, one output per thread.
pub const DEQUANTIZE_LINEAR: ShaderProgram = ShaderProgram {
    name: "dequantize_linear",
    parts: &[
        COMMON_WGSL,
        include_str!("../../../shaders/quantize_dequantize.wgsl"),
    ],
    needs_f16: false,
};

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] = &[
    &QUANTIZE_LINEAR,
    &DEQUANTIZE_LINEAR,
    &DYNAMIC_QUANTIZE_RANGE,
    &DYNAMIC_QUANTIZE_APPLY,
];

/// `QdqParams` of `shaders/quantize_common.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct QdqUniforms {
    count: u32,
    granularity: u32,
    axis_len: u32,
    inner: u32,
    block_size: u32,
    blocks: u32,
}

impl QdqUniforms {
    fn of(layout: &QdqLayout) -> Result<Self> {
        Ok(QdqUniforms {
            count: to_u32("QDQ elements", layout.count)?,
            granularity: layout.granularity_code(),
            axis_len: to_u32("QDQ axis length", layout.axis_len)?,
            inner: to_u32("QDQ elements after the axis", layout.inner)?,
            block_size: to_u32("QDQ block size", layout.block_size)?,
            blocks: to_u32("QDQ blocks", layout.blocks)?,
        })
    }
}

/// `QUANT_KIND` of `shaders/quantize_common.wgsl`.
fn quant_kind(dtype: DType) -> f64 {
    match dtype {
        DType::I8 => 0.0,
        DType::U8 => 1.0,
        _ => 2.0,
    }
}

/// Records one QDQ dispatch over `threads` threads.
fn dispatch_qdq(
    gpu: &Gpu,
    program: &ShaderProgram,
    constants: &[OverrideConstant],
    operands: [Binding<'_>; 4],
    layout: &QdqLayout,
    threads: usize,
) -> Result<()> {
    let uniforms = QdqUniforms::of(layout)?;
    let pipeline = gpu.pipeline(program, constants)?;
    let [input, scale, zero_point, output] = operands;
    let bindings = [
        (0, input),
        (1, scale),
        (2, zero_point),
        (3, output),
        (4, Binding::Uniform(bytemuck::bytes_of(&uniforms))),
    ];
    gpu.dispatch(
        &pipeline,
        &bindings,
        grid_for(gpu, threads, ELEMENTWISE_WORKGROUP)?,
    )
}

/// QuantizeLinear on the GPU: f32 `x` to int8 or uint8. The output dtype is the zero point's when
/// there is one (`output_dtype`, if also given, must agree), else `output_dtype`, else uint8.
pub fn quantize_linear(
    gpu: &Gpu,
    x: &GpuTensor,
    scale: &GpuTensor,
    zero_point: Option<&GpuTensor>,
    attributes: &QdqAttributes,
    output_dtype: Option<DType>,
) -> Result<GpuTensor> {
    const OP: &str = "quantize_linear";
    x.expect_dtype(OP, DType::F32)?;
    scale.expect_dtype(OP, DType::F32)?;
    let dtype = match (zero_point.map(GpuTensor::dtype), output_dtype) {
        (Some(zero), Some(requested)) if zero != requested => {
            return Err(Error::DTypeMismatch {
                op: OP,
                expected: requested,
                got: zero,
            })
        }
        (Some(dtype), _) | (None, Some(dtype)) => dtype,
        (None, None) => DType::U8,
    };
    if !matches!(dtype, DType::I8 | DType::U8) {
        return Err(Error::InvalidArgument {
            op: OP,
            detail: format!("QuantizeLinear outputs i8 or u8, not {dtype}"),
        });
    }
    let layout = QdqLayout::resolve(
        OP,
        x.shape(),
        scale.shape(),
        zero_point.map(GpuTensor::shape),
        attributes,
    )?;
    let q = GpuTensor::uninit(gpu, x.shape(), dtype)?;
    let constants = [
        ("QUANT_KIND", quant_kind(dtype)),
        ("HAS_ZERO_POINT", f64::from(u8::from(zero_point.is_some()))),
    ];
    let operands = [
        Binding::Storage(x.buffer()),
        Binding::Storage(scale.buffer()),
        zero_point.map_or(Binding::Unused, |zero| Binding::Storage(zero.buffer())),
        Binding::Storage(q.buffer()),
    ];
    let words = layout.count.div_ceil(4);
    dispatch_qdq(gpu, &QUANTIZE_LINEAR, &constants, operands, &layout, words)?;
    Ok(q)
}

/// DequantizeLinear on the GPU: int8, uint8 or int32 `x` to f32. The zero point, if any, has x's
/// dtype; an int32 x takes none.
pub fn dequantize_linear(
    gpu: &Gpu,
    x: &GpuTensor,
    scale: &GpuTensor,
    zero_point: Option<&GpuTensor>,
    attributes: &QdqAttributes,
) -> Result<GpuTensor> {
    const OP: &str = "dequantize_linear";
    scale.expect_dtype(OP, DType::F32)?;
    if !matches!(x.dtype(), DType::I8 | DType::U8 | DType::I32) {
        return Err(Error::InvalidArgument {
            op: OP,
            detail: format!("DequantizeLinear reads i8, u8 or i32, not {}", x.dtype()),
        });
    }
    if let Some(zero_point) = zero_point {
        zero_point.expect_dtype(OP, x.dtype())?;
        if x.dtype() == DType::I32 {
            return Err(Error::InvalidArgument {
                op: OP,
                detail: "an int32 input takes no zero point (ONNX fixes it at 0)".into(),
            });
        }
    }
    let layout = QdqLayout::resolve(
        OP,
        x.shape(),
        scale.shape(),
        zero_point.map(GpuTensor::shape),
        attributes,
    )?;
    let y = GpuTensor::uninit(gpu, x.shape(), DType::F32)?;
    let constants = [
        ("QUANT_KIND", quant_kind(x.dtype())),
        ("HAS_ZERO_POINT", f64::from(u8::from(zero_point.is_some()))),
    ];
    let operands = [
        Binding::Storage(x.buffer()),
        Binding::Storage(scale.buffer()),
        zero_point.map_or(Binding::Unused, |zero| Binding::Storage(zero.buffer())),
        Binding::Storage(y.buffer()),
    ];
    dispatch_qdq(
        gpu,
        &DEQUANTIZE_LINEAR,
        &constants,
        operands,
        &layout,
        layout.count,
    )?;
    Ok(y)
}
