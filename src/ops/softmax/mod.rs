//! Softmax and LogSoftmax along one axis (ONNX opset ≥ 13 semantics) of an f32 tensor of any rank:
//! the f64 reference with its derived error bound, and the launcher of `shaders/softmax.wgsl`
//! (one workgroup per reduced row, max-subtracted, so exponents never overflow).
//!
//! Special values follow numpy's `exp(x - max) / sum(exp(x - max))`: a row that holds NaN or +inf,
//! or holds only -inf, is NaN throughout (`inf - inf` and `-inf - -inf` are NaN); a -inf element in
//! any other row gives 0 (LogSoftmax: -inf).

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::Result;
use crate::ops::elementwise::{ElementwiseReference, FLOAT_BITS_WGSL, ULP, UNIT_ROUNDOFF};
use crate::ops::grid::grid_for;
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::shape::normalize_axis;
use crate::tensor::{DType, GpuTensor};

/// Softmax or LogSoftmax, chosen by the `LOG_SOFTMAX` override constant.
pub const SOFTMAX: ShaderProgram = ShaderProgram {
    name: "softmax",
    parts: &[
        FLOAT_BITS_WGSL,
        include_str!("../../../shaders/softmax.wgsl"),
    ],
    needs_f16: false,
};

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] = &[&SOFTMAX];

/// `SoftmaxParams` in `softmax.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SoftmaxParams {
    rows: u32,
    axis_len: u32,
    inner: u32,
    pad: u32,
}

/// `shape` viewed as [outer, axis length, inner] around `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

/// Softmax (or, with `log`, LogSoftmax) of `x` (of `shape`) along `axis` (negative counts from
/// the end), in f64, with the bound on the kernel's error per element. The bound is derived from
/// WGSL's accuracy table: with `d = x - max` (rounded: 2⁻²⁴|d|) each `exp(d)` is within
/// εᵢ = (3 + 2|dᵢ|) ULP + 2⁻²⁴|dᵢ| relative; the sum S of L positive terms adds (L + 1)·2⁻²⁴
/// (Higham's bound for any summation order), so S is within ε_S = Σeᵢεᵢ/S + (L + 1)·2⁻²⁴. Softmax
/// divides (2.5 ULP): yᵢ·(εᵢ + ε_S + 2.5 ULP). LogSoftmax subtracts `log S`, off by ε_S plus log's
/// own error (2⁻²¹ absolute for S in [0.5, 2], 3 ULP beyond), after rounding d and the result.
/// A 1% margin covers products of the relative errors.
pub fn reference_softmax(
    x: &[f32],
    shape: &[usize],
    axis: i64,
    log: bool,
) -> Result<ElementwiseReference> {
    let op = if log { "LogSoftmax" } else { "Softmax" };
    let axis = normalize_axis(op, axis, shape.len())?;
    let (outer, axis_len, inner) = split_at_axis(shape, axis);
    let mut reference = ElementwiseReference {
        shape: shape.to_vec(),
        output: vec![0.0; x.len()],
        error_bound: vec![0.0; x.len()],
    };
    for row in 0..outer * inner {
        let base = (row / inner) * axis_len * inner + row % inner;
        let indices: Vec<usize> = (0..axis_len).map(|j| base + j * inner).collect();
        let values: Vec<f64> = indices.iter().map(|&i| f64::from(x[i])).collect();
        let max = values.iter().fold(f64::NEG_INFINITY, |max, &v| {
            if v.is_nan() || max.is_nan() {
                f64::NAN
            } else {
                max.max(v)
            }
        });
        if !max.is_finite() {
            for &i in &indices {
                reference.output[i] = f64::NAN;
            }
            continue;
        }
        let shifted: Vec<f64> = values.iter().map(|&v| v - max).collect();
        let exps: Vec<f64> = shifted.iter().map(|d| d.exp()).collect();
        let exp_error = |d: f64| (3.0 + 2.0 * d.abs()) * ULP + UNIT_ROUNDOFF * d.abs();
        let sum: f64 = exps.iter().sum();
        let weighted: f64 = exps
            .iter()
            .zip(&shifted)
            .filter(|(_, d)| d.is_finite())
            .map(|(e, &d)| e * exp_error(d))
            .sum();
        let sum_error = weighted / sum + (axis_len as f64 + 1.0) * UNIT_ROUNDOFF;
        let log_sum = sum.ln();
        let log_error = if (0.5..=2.0).contains(&sum) {
            2f64.powi(-21)
        } else {
            3.0 * ULP * log_sum.abs()
        };
        for ((&i, &d), &e) in indices.iter().zip(&shifted).zip(&exps) {
            let (y, bound) = if log {
                let y = d - log_sum;
                let bound = UNIT_ROUNDOFF * (d.abs() + y.abs()) + sum_error + log_error;
                (y, bound)
            } else {
                let y = e / sum;
                (y, y * (exp_error(d) + sum_error + 2.5 * ULP))
            };
            reference.output[i] = y;
            reference.error_bound[i] = if y.is_finite() { 1.01 * bound } else { 0.0 };
        }
    }
    Ok(reference)
}

fn launch(gpu: &Gpu, x: &GpuTensor, axis: i64, log: bool) -> Result<GpuTensor> {
    let op = if log { "LogSoftmax" } else { "Softmax" };
    x.expect_dtype(op, DType::F32)?;
    let axis = normalize_axis(op, axis, x.shape().len())?;
    let (outer, axis_len, inner) = split_at_axis(x.shape(), axis);
    let output = GpuTensor::uninit(gpu, x.shape(), DType::F32)?;
    if x.is_empty() {
        return Ok(output);
    }
    let params = SoftmaxParams {
        rows: to_u32("softmax rows", outer * inner)?,
        axis_len: to_u32("softmax axis length", axis_len)?,
        inner: to_u32("softmax inner size", inner)?,
        pad: 0,
    };
    to_u32("softmax elements", x.len())?;
    let pipeline = gpu.pipeline(&SOFTMAX, &[("LOG_SOFTMAX", f64::from(u8::from(log)))])?;
    let bindings = [
        (0, Binding::Uniform(bytemuck::bytes_of(&params))),
        (1, Binding::Storage(x.buffer())),
        (2, Binding::Storage(output.buffer())),
    ];
    gpu.dispatch(&pipeline, &bindings, grid_for(gpu, outer * inner, 1)?)?;
    Ok(output)
}

/// Softmax of `x` along `axis` (negative counts from the end): `exp(x - max) / Σ exp(x - max)`.
///
/// ```no_run
/// # use kiln::{device::Gpu, tensor::GpuTensor, ops::softmax::softmax};
/// # fn main() -> kiln::Result<()> {
/// let gpu = Gpu::from_env()?;
/// let logits = GpuTensor::upload(&gpu, &[2, 2], &[0.0f32, 0.0, 1000.0, 1000.0])?;
/// assert_eq!(softmax(&gpu, &logits, -1)?.read::<f32>(&gpu)?, vec![0.5; 4]);
/// # Ok(()) }
/// ```
pub fn softmax(gpu: &Gpu, x: &GpuTensor, axis: i64) -> Result<GpuTensor> {
    launch(gpu, x, axis, false)
}

/// LogSoftmax of `x` along `axis`: `x - max - log Σ exp(x - max)`.
pub fn log_softmax(gpu: &Gpu, x: &GpuTensor, axis: i64) -> Result<GpuTensor> {
    launch(gpu, x, axis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_is_stable_and_follows_numpy_on_special_rows() {
        let x = [1000.0, 1000.0, 0.0, f32::NEG_INFINITY, f32::INFINITY, 1.0];
        let reference = reference_softmax(&x, &[3, 2], 1, false).unwrap();
        assert_eq!(&reference.output[..3], &[0.5, 0.5, 1.0]);
        assert_eq!(reference.output[3], 0.0);
        assert!(reference.output[4..].iter().all(|v| v.is_nan()));
        let logs = reference_softmax(&[0.0, 0.0], &[2], -1, true).unwrap();
        assert!((logs.output[0] + std::f64::consts::LN_2).abs() < 1e-15);
        assert!(reference_softmax(&[1.0], &[1], 1, false).is_err());
    }
}
