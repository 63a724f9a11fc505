//! LocalResponseNormalization (ONNX `LRN`) across channels, for `[N, C, ...]` tensors of any rank
//! ≥ 2: `y = x / (bias + alpha/size · Σ x²)^beta`, the sum over the channels from
//! `c − ⌊(size − 1)/2⌋` to `c + ⌈(size − 1)/2⌉` clipped to `[0, C)` at the same position.
//! AlexNet, ZFNet and Inception v1 use it. The reference is f64; `shaders/lrn.wgsl` is f32, one
//! thread per element, reading its window of channels directly (windows are a few channels wide).
//!
//! Tolerance, derived per element (u = 2⁻²⁴ unit roundoff, one ULP = 2u relative):
//! - the f32 sum of `n ≤ size` squares carries `(n + 1)·u·Σx²` (Higham §4.2, each square one
//!   rounding), plus `n` flushed squares of at most 2⁻¹²⁶ each;
//! - `alpha/size` is rounded once on the host, the multiply and the add once each, so the divisor
//!   `d` is off by `δd ≤ (n + 4)·u·m`, `m = |bias| + |alpha/size|·Σx²`;
//! - `d^beta` runs as `exp2(−beta·log2 d)`: a relative error `|beta|·δd/d` from `δd`, `ln 2·|beta|·e`
//!   from log2's absolute error `e` (WGSL: 2⁻²¹ for `d` in [0.5, 2], else 3 ULP of `log2 d`),
//!   `ln 2·u·|beta·log2 d|` (under half an ULP per unit) from rounding the product, and exp2's
//!   `3 + 2·|beta·log2 d|` ULP;
//! - the final multiply by `x`, one more ULP.
//!
//! The sum of these relative terms times `|y|` is the bound ([`reference_lrn`]). `d ≤ 0` (a
//! negative `bias`) has no real power; the kernel and reference both give NaN or ±inf there.

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::elementwise::{ElementwiseReference, FLUSH_TO_ZERO, ULP, UNIT_ROUNDOFF};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::{DType, GpuTensor};
use std::ops::Range;

/// The LRN kernel: one thread per output element.
pub const LRN_F32: ShaderProgram = ShaderProgram {
    name: "lrn_f32",
    parts: &[include_str!("../../../shaders/lrn.wgsl")],
    needs_f16: false,
};

/// LRN's attributes (ONNX defaults: `alpha = 1e-4`, `beta = 0.75`, `bias = 1`; `size` required).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LrnAttrs {
    /// The number of channels summed (at least 1).
    pub size: usize,
    /// The scale of the sum of squares, divided by `size`.
    #[serde(with = "crate::tensor::serde_repr::float32")]
    pub alpha: f32,
    /// The exponent.
    #[serde(with = "crate::tensor::serde_repr::float32")]
    pub beta: f32,
    /// Added to the scaled sum.
    #[serde(with = "crate::tensor::serde_repr::float32")]
    pub bias: f32,
}

impl LrnAttrs {
    /// The channels summed for `channel` of `channels`: `⌊(size − 1)/2⌋` before it and
    /// `⌈(size − 1)/2⌉` after, clipped.
    pub fn window(&self, channel: usize, channels: usize) -> Range<usize> {
        let before = (self.size - 1) / 2;
        let after = self.size / 2;
        channel.saturating_sub(before)..(channel + after + 1).min(channels)
    }

    /// `[N, C, ...]` as `(C, elements per channel per batch item)`, after checking the size and
    /// the rank.
    fn layout(&self, op: &'static str, shape: &[usize]) -> Result<(usize, usize)> {
        if self.size == 0 {
            return Err(Error::InvalidArgument {
                op,
                detail: "size must be at least 1".into(),
            });
        }
        match shape {
            [_, channels, rest @ ..] => Ok((*channels, rest.iter().product())),
            _ => Err(Error::ShapeMismatch {
                op,
                detail: format!("x must be [N, C, ...], got {shape:?}"),
            }),
        }
    }
}

/// The f64 reference of LRN on row-major `x` of `shape`, with the kernel's derived error bound
/// (module documentation).
///
/// ```
/// use kiln::ops::normalization::{reference_lrn, LrnAttrs};
/// let attrs = LrnAttrs { size: 3, alpha: 3.0, beta: 1.0, bias: 1.0 };
/// // Channel 0 sums channels 0 and 1: 1 + (3/3)·(1 + 4) = 6.
/// let y = reference_lrn(&[1.0, 2.0], &[1, 2], &attrs)?;
/// assert_eq!(y.output, vec![1.0 / 6.0, 2.0 / 6.0]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn reference_lrn(x: &[f32], shape: &[usize], attrs: &LrnAttrs) -> Result<ElementwiseReference> {
    let (channels, inner) = attrs.layout("reference_lrn", shape)?;
    if x.len() != shape.iter().product::<usize>() {
        return Err(Error::ShapeMismatch {
            op: "reference_lrn",
            detail: format!("shape {shape:?} does not hold {} values", x.len()),
        });
    }
    let scale = f64::from(attrs.alpha) / attrs.size as f64;
    let (bias, beta) = (f64::from(attrs.bias), f64::from(attrs.beta));
    let mut reference = ElementwiseReference {
        shape: shape.to_vec(),
        output: Vec::with_capacity(x.len()),
        error_bound: Vec::with_capacity(x.len()),
    };
    for (index, &value) in x.iter().enumerate() {
        let (position, channel) = (index % inner.max(1), (index / inner.max(1)) % channels);
        let batch_start = index - position - channel * inner;
        let window = attrs.window(channel, channels);
        let terms = window.len() as f64;
        let squares: f64 = (window.map(|c| f64::from(x[batch_start + c * inner + position])))
            .map(|v| v * v)
            .sum();
        let divisor = bias + scale * squares;
        let y = f64::from(value) / divisor.powf(beta);
        let divisor_error = (terms + 4.0) * UNIT_ROUNDOFF * (bias.abs() + scale.abs() * squares)
            + terms * scale.abs() * FLUSH_TO_ZERO;
        let log2 = divisor.log2();
        let log2_error = if (0.5..=2.0).contains(&divisor) {
            2f64.powi(-21)
        } else {
            3.0 * ULP * log2.abs()
        };
        let relative = beta.abs() * divisor_error / divisor.abs()
            + std::f64::consts::LN_2 * beta.abs() * log2_error
            + (4.0 + 2.5 * (beta * log2).abs()) * ULP;
        reference.output.push(y);
        reference.error_bound.push(relative * y.abs());
    }
    Ok(reference)
}

/// `LrnParams` of `shaders/lrn.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct LrnUniforms {
    count: u32,
    inner: u32,
    channels: u32,
    before: u32,
    after: u32,
    scale: f32,
    beta: f32,
    bias: f32,
}

/// LRN of an f32 tensor `[N, C, ...]` (rank ≥ 2) on the GPU, as [`reference_lrn`] computes it.
pub fn lrn(gpu: &Gpu, x: &GpuTensor, attrs: &LrnAttrs) -> Result<GpuTensor> {
    x.expect_dtype("LRN", DType::F32)?;
    let (channels, inner) = attrs.layout("LRN", x.shape())?;
    let y = GpuTensor::uninit(gpu, x.shape(), DType::F32)?;
    if x.is_empty() {
        return Ok(y);
    }
    let uniforms = LrnUniforms {
        count: to_u32("LRN elements", x.len())?,
        inner: to_u32("LRN elements per channel", inner)?,
        channels: to_u32("LRN channels", channels)?,
        before: to_u32("LRN size", (attrs.size - 1) / 2)?,
        after: to_u32("LRN size", attrs.size / 2)?,
        scale: (f64::from(attrs.alpha) / attrs.size as f64) as f32,
        beta: attrs.beta,
        bias: attrs.bias,
    };
    let pipeline = gpu.pipeline(&LRN_F32, &[])?;
    let bindings = [
        (0, Binding::Storage(x.buffer())),
        (1, Binding::Storage(y.buffer())),
        (2, Binding::Uniform(bytemuck::bytes_of(&uniforms))),
    ];
    gpu.dispatch(
        &pipeline,
        &bindings,
        grid_for(gpu, x.len(), ELEMENTWISE_WORKGROUP)?,
    )?;
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_onnx_for_odd_and_even_sizes() {
        let attrs = |size| LrnAttrs {
            size,
            alpha: 1.0,
            beta: 1.0,
            bias: 1.0,
        };
        assert_eq!(attrs(3).window(0, 5), 0..2);
        assert_eq!(attrs(3).window(2, 5), 1..4);
        assert_eq!(attrs(4).window(2, 5), 1..5);
        assert_eq!(attrs(4).window(4, 5), 3..5);
        assert_eq!(attrs(1).window(3, 5), 3..4);
        assert_eq!(attrs(9).window(1, 3), 0..3);
    }

    #[test]
    fn reference_matches_a_hand_computed_value_and_rejects_bad_input() {
        let attrs = LrnAttrs {
            size: 2,
            alpha: 2.0,
            beta: 0.5,
            bias: 2.0,
        };
        // Channel 0 at position 1 sums channels 0 and 1: 2 + (2/2)·(2² + 1²) = 7.
        let y = reference_lrn(&[1.0, 2.0, 3.0, 1.0], &[1, 2, 2], &attrs).unwrap();
        assert!((y.output[1] - 2.0 / 7f64.sqrt()).abs() < 1e-15);
        assert!(reference_lrn(&[1.0], &[1], &attrs).is_err());
        let empty = LrnAttrs { size: 0, ..attrs };
        assert!(reference_lrn(&[1.0], &[1, 1], &empty).is_err());
    }
}
