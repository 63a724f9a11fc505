//! ONNX `QLinearMatMul` on the int8 kernel: the exact i32 accumulator of `MatMulInteger` (plus an
//! optional i32 bias per column, which the QDQ lowering of a Gemm brings), requantized in the
//! kernel's store (`shaders/matmul_q8_store_q8.wgsl`) to int8 or uint8:
//!
//! ```text
//! y = clamp(round_half_even(f32(acc + bias[n]) · multiplier[n]) + y_zero_point, low, high)
//! multiplier[n] = a_scale · b_scale[n] / y_scale        (f32, on the host)
//! ```
//!
//! as onnxruntime's QLinearMatMul and kiln's QLinearConv compute it; `[low, high]` is the output
//! type's range, raised to `[y_zero_point, high]` by a fused Relu. [`requantize`] is the one
//! specification: the reference applies it to [`reference_matmul_integer`]'s accumulators, the
//! kernel performs the same f32 operations, so the two agree bit for bit.
//!
//! [`reference_matmul_integer`]: super::reference_matmul_integer

use super::integer::PackedActivations;
use super::{launch, Dot4Path, GpuQ8Weights, Output};
use crate::device::{Binding, Gpu, GpuBuffer, OverrideConstant};
use crate::error::{Error, Result};
use crate::tensor::{DType, GpuTensor};

/// How a QLinearMatMul maps accumulators to its int8 or uint8 output.
#[derive(Clone, Debug, PartialEq)]
pub struct Requantization {
    /// `a_scale · b_scale[n] / y_scale` per output column, in f32.
    pub multipliers: Vec<f32>,
    /// An i32 bias per output column (scale `a_scale · b_scale[n]`), added to the accumulator.
    pub bias: Option<Vec<i32>>,
    /// The output's zero point, in the output type's range.
    pub y_zero_point: i32,
    /// `I8` or `U8`.
    pub output: DType,
    /// Clamp below at the zero point: a Relu before the output's quantization.
    pub relu: bool,
}

impl Requantization {
    /// The requantization of scales `a_scale`, `b_scales` (one per column) and `y_scale` to
    /// `output` with `y_zero_point`. Scales that are not finite and positive, a zero point outside
    /// `output`'s range, or an output other than `I8`/`U8` are [`Error::InvalidArgument`]s.
    pub fn new(
        a_scale: f32,
        b_scales: &[f32],
        y_scale: f32,
        y_zero_point: i32,
        output: DType,
    ) -> Result<Self> {
        const OP: &str = "QLinearMatMul";
        let invalid = |detail: String| Error::InvalidArgument { op: OP, detail };
        let scales = [("a_scale", a_scale), ("y_scale", y_scale)].into_iter();
        let b_scales_named = b_scales.iter().map(|&scale| ("b_scale", scale));
        if let Some((what, scale)) = scales
            .chain(b_scales_named)
            .find(|(_, scale)| !(scale.is_finite() && *scale > 0.0))
        {
            return Err(invalid(format!(
                "{what} {scale} is not finite and positive"
            )));
        }
        let [low, high] = type_range(output).ok_or_else(|| {
            invalid(format!(
                "the output is {output}; QLinearMatMul gives i8 or u8"
            ))
        })?;
        if !(low..=high).contains(&y_zero_point) {
            return Err(invalid(format!(
                "y_zero_point {y_zero_point} is outside {output}'s range"
            )));
        }
        Ok(Requantization {
            multipliers: b_scales
                .iter()
                .map(|&b_scale| a_scale * b_scale / y_scale)
                .collect(),
            bias: None,
            y_zero_point,
            output,
            relu: false,
        })
    }

    /// The clamp bounds: the output type's range, from the zero point up with a fused Relu.
    pub fn range(&self) -> [i32; 2] {
        let [low, high] = type_range(self.output).unwrap_or([0, 255]);
        [
            if self.relu {
                low.max(self.y_zero_point)
            } else {
                low
            },
            high,
        ]
    }
}

/// `[low, high]` of int8 and uint8.
fn type_range(dtype: DType) -> Option<[i32; 2]> {
    match dtype {
        DType::I8 => Some([-128, 127]),
        DType::U8 => Some([0, 255]),
        _ => None,
    }
}

/// One output value: `clamp(round_half_even(f32(acc) · multiplier) + zero_point, low, high)`,
/// every step in f32 (`acc as f32` rounds to nearest even), as the kernel computes it.
pub fn requantize(acc: i32, multiplier: f32, zero_point: i32, [low, high]: [i32; 2]) -> i32 {
    let scaled = (acc as f32 * multiplier).round_ties_even();
    (scaled + zero_point as f32).clamp(low as f32, high as f32) as i32
}

/// QLinearMatMul's output from `MatMulInteger`'s accumulators (row-major, `N` = the number of
/// multipliers columns per row): the bias added in wrapping i32 (ONNX's accumulator type), then
/// [`requantize`] per column.
pub fn reference_qlinear_matmul(accumulators: &[i32], requant: &Requantization) -> Vec<i32> {
    let n = requant.multipliers.len().max(1);
    let range = requant.range();
    (accumulators.iter().enumerate())
        .map(|(index, &acc)| {
            let col = index % n;
            let bias = requant.bias.as_ref().map_or(0, |bias| bias[col]);
            let multiplier = requant.multipliers[col];
            requantize(
                acc.wrapping_add(bias),
                multiplier,
                requant.y_zero_point,
                range,
            )
        })
        .collect()
}

/// The requantization's device buffers and constants, as the kernel's store reads them.
pub(super) struct DeviceRequantization<'a> {
    pub multipliers: &'a GpuBuffer,
    pub bias: Option<&'a GpuBuffer>,
    pub y_zero_point: i32,
    pub output: DType,
    pub relu: bool,
}

impl DeviceRequantization<'_> {
    /// `OUTPUT_U8`, `HAS_BIAS` and `RELU` of `shaders/matmul_q8_store_q8.wgsl`.
    pub fn override_constants(&self) -> Vec<OverrideConstant> {
        let flag = |on: bool| f64::from(u8::from(on));
        vec![
            ("OUTPUT_U8", flag(self.output == DType::U8)),
            ("HAS_BIAS", flag(self.bias.is_some())),
            ("RELU", flag(self.relu)),
        ]
    }

    /// The bias binding, or the placeholder when there is none.
    pub fn bias_binding(&self) -> Binding<'_> {
        self.bias.map_or(Binding::Unused, Binding::Storage)
    }
}

/// `QLinearMatMul` on the GPU: `a` i8 or u8 `[…, M, K]` with its zero point (none, one, or `M`,
/// on the device), times weights `w` as [`super::integer_weights`] lays out `B`, requantized per
/// `requant`. Output `requant.output`, `[…, M, N]`. Reference: [`reference_qlinear_matmul`] of
/// [`super::reference_matmul_integer`].
pub fn qlinear_matmul(
    gpu: &Gpu,
    a: &GpuTensor,
    a_zero_point: Option<&GpuTensor>,
    w: &GpuQ8Weights,
    requant: &Requantization,
    path: Dot4Path,
) -> Result<GpuTensor> {
    const OP: &str = "QLinearMatMul";
    let n = w.n();
    let bias_len = requant.bias.as_ref().map_or(n, Vec::len);
    if requant.multipliers.len() != n || bias_len != n {
        let detail = format!(
            "N = {n} needs {n} multipliers and biases, got {} and {bias_len}",
            requant.multipliers.len()
        );
        return Err(Error::ShapeMismatch { op: OP, detail });
    }
    let multipliers = gpu.upload_bytes(bytemuck::cast_slice(&requant.multipliers))?;
    let bias = (requant.bias.as_ref())
        .map(|bias| gpu.upload_bytes(bytemuck::cast_slice(bias)))
        .transpose()?;
    let packed = PackedActivations::pack(OP, gpu, a, a_zero_point)?;
    let output = Output::Q8(DeviceRequantization {
        multipliers: &multipliers,
        bias: bias.as_ref(),
        y_zero_point: requant.y_zero_point,
        output: requant.output,
        relu: requant.relu,
    });
    let c = launch(OP, gpu, &packed.rows(), w, output, path)?;
    c.reshape(&packed.output_shape(n))
}
