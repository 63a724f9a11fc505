//! BatchNormalization in inference mode (ONNX `BatchNormalization` with `training_mode = 0`):
//! `y = (x − mean[c]) · scale[c] / √(var[c] + ε) + B[c]` for channel `c` on axis 1, and its folding
//! into the convolution before it.
//!
//! The GPU kernel computes `y = x · multiplier[c] + offset[c]`, where `multiplier = scale / √(var + ε)`
//! and `offset = B − mean · multiplier` are computed on the host in f64 and rounded to f32 once.
//!
//! Tolerance, derived: the rounded multiplier and offset each carry one rounding (u = 2⁻²⁴ relative),
//! the multiply and the add one each (or one, fused), so the kernel is within
//! `u·(2|x·m| + |c| + |y|) ≤ 3u·(|x·m| + |c|)` of the exact value; comparing with the f32-rounded
//! reference adds `u·|y|`. [`BatchNormReference::tolerances`] uses `4u·(|x·m| + |c|)`.

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::reference::F32_UNIT_ROUNDOFF;
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::{DType, GpuTensor};

/// The BatchNormalization kernel: one multiply-add per element.
pub const BATCHNORM_F32: ShaderProgram = ShaderProgram {
    name: "batchnorm_f32",
    parts: &[include_str!("../../../shaders/batchnorm.wgsl")],
    needs_f16: false,
};

/// The per-channel parameters of an inference-mode BatchNormalization (ONNX inputs `scale`, `B`,
/// `input_mean`, `input_var` and attribute `epsilon`), one value per channel in each vector.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormParams {
    /// γ, the per-channel scale.
    pub scale: Vec<f32>,
    /// β, the per-channel bias (ONNX input `B`).
    pub bias: Vec<f32>,
    /// μ, the running mean.
    pub mean: Vec<f32>,
    /// σ², the running variance.
    pub var: Vec<f32>,
    /// ε, added to the variance (ONNX default 1e-5).
    pub epsilon: f32,
}

impl BatchNormParams {
    /// The number of channels, after checking that the four vectors agree on it.
    pub fn channels(&self, op: &'static str) -> Result<usize> {
        let channels = self.scale.len();
        let lengths = [self.bias.len(), self.mean.len(), self.var.len()];
        if lengths.iter().any(|&len| len != channels) {
            return Err(Error::ShapeMismatch {
                op,
                detail: format!(
                    "scale, B, mean and var must have one value per channel; got lengths \
                     {channels}, {}, {}, {}",
                    lengths[0], lengths[1], lengths[2]
                ),
            });
        }
        if !(self.epsilon >= 0.0 && self.epsilon.is_finite()) {
            return Err(Error::InvalidArgument {
                op,
                detail: format!("epsilon must be finite and >= 0, got {}", self.epsilon),
            });
        }
        Ok(channels)
    }

    /// Channel `c`'s exact `(multiplier, offset)` in f64: `γ/√(σ² + ε)` and `β − μ·γ/√(σ² + ε)`.
    pub fn channel_affine(&self, channel: usize) -> (f64, f64) {
        let variance = f64::from(self.var[channel]) + f64::from(self.epsilon);
        let multiplier = f64::from(self.scale[channel]) / variance.sqrt();
        let offset = f64::from(self.bias[channel]) - f64::from(self.mean[channel]) * multiplier;
        (multiplier, offset)
    }
}

/// Splits a shape with channels on axis 1 into (channels, elements per channel per batch item).
fn channel_layout(op: &'static str, shape: &[usize], channels: usize) -> Result<usize> {
    if shape.len() < 2 || shape[1] != channels {
        return Err(Error::ShapeMismatch {
            op,
            detail: format!(
                "x must be [N, C, ...] with C = {channels} (the parameters' length), got {shape:?}"
            ),
        });
    }
    Ok(shape[2..].iter().product())
}

/// The exact BatchNormalization output, with what its tolerance needs.
#[derive(Clone, Debug)]
pub struct BatchNormReference {
    /// `(x − μ)·γ/√(σ² + ε) + β` per element, in f64.
    pub output: Vec<f64>,
    /// `|x·m| + |c|` per element (m, c the channel's multiplier and offset).
    pub magnitude: Vec<f64>,
}

impl BatchNormReference {
    /// The output rounded to f32.
    pub fn values(&self) -> Vec<f32> {
        self.output.iter().map(|&v| v as f32).collect()
    }

    /// Per-element absolute tolerances for the f32 kernel (derived in the module documentation).
    pub fn tolerances(&self) -> Vec<f32> {
        self.magnitude
            .iter()
            .map(|&magnitude| (4.0 * F32_UNIT_ROUNDOFF * magnitude) as f32)
            .collect()
    }
}

/// The CPU reference: BatchNormalization of row-major `x` of `shape` (`[N, C, ...]`), in f64.
pub fn reference_batchnorm(
    x: &[f32],
    shape: &[usize],
    params: &BatchNormParams,
) -> Result<BatchNormReference> {
    const OP: &str = "reference_batchnorm";
    let channels = params.channels(OP)?;
    let inner = channel_layout(OP, shape, channels)?;
    if x.len() != shape.iter().product::<usize>() {
        return Err(Error::ShapeMismatch {
            op: OP,
            detail: format!("shape {shape:?} does not hold {} values", x.len()),
        });
    }
    let mut reference = BatchNormReference {
        output: Vec::with_capacity(x.len()),
        magnitude: Vec::with_capacity(x.len()),
    };
    for (index, &value) in x.iter().enumerate() {
        let channel = (index / inner.max(1)) % channels;
        let variance = f64::from(params.var[channel]) + f64::from(params.epsilon);
        let normalized = (f64::from(value) - f64::from(params.mean[channel])) / variance.sqrt();
        reference
            .output
            .push(normalized * f64::from(params.scale[channel]) + f64::from(params.bias[channel]));
        let (multiplier, offset) = params.channel_affine(channel);
        reference
            .magnitude
            .push((f64::from(value) * multiplier).abs() + offset.abs());
    }
    Ok(reference)
}

/// `BatchNormParams` of `shaders/batchnorm.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct BatchNormUniforms {
    count: u32,
    inner: u32,
    channels: u32,
}

/// Inference-mode BatchNormalization of an f32 tensor `[N, C, ...]` (rank ≥ 2) on the GPU.
pub fn batch_normalization(
    gpu: &Gpu,
    x: &GpuTensor,
    params: &BatchNormParams,
) -> Result<GpuTensor> {
    const OP: &str = "batch_normalization";
    x.expect_dtype(OP, DType::F32)?;
    let channels = params.channels(OP)?;
    let inner = channel_layout(OP, x.shape(), channels)?;
    let affine: Vec<f32> = (0..channels)
        .flat_map(|channel| {
            let (multiplier, offset) = params.channel_affine(channel);
            [multiplier as f32, offset as f32]
        })
        .collect();
    let y = GpuTensor::uninit(gpu, x.shape(), DType::F32)?;
    if x.is_empty() {
        return Ok(y);
    }
    let affine = gpu.upload_bytes(bytemuck::cast_slice(&affine))?;
    let uniforms = BatchNormUniforms {
        count: to_u32("batch_normalization elements", x.len())?,
        inner: to_u32("batch_normalization elements per channel", inner)?,
        channels: to_u32("batch_normalization channels", channels)?,
    };
    let pipeline = gpu.pipeline(&BATCHNORM_F32, &[])?;
    let bindings = [
        (0, Binding::Storage(x.buffer())),
        (1, Binding::Storage(&affine)),
        (2, Binding::Storage(y.buffer())),
        (3, Binding::Uniform(bytemuck::bytes_of(&uniforms))),
    ];
    let grid = grid_for(gpu, x.len(), ELEMENTWISE_WORKGROUP)?;
    gpu.dispatch(&pipeline, &bindings, grid)?;
    Ok(y)
}

/// Folds an inference BatchNormalization into the convolution before it: for a conv weight
/// `[M, C/group, kH, kW]` (any trailing kernel dims) and optional bias `[M]`, returns
/// `(W', b')` with `W'[m] = W[m]·γ[m]/√(σ²[m] + ε)` and `b' = (b − μ)·γ/√(σ² + ε) + β`, each
/// computed in f64 and rounded once, so `BN(conv(x, W, b)) = conv(x, W', b')`.
///
/// ```
/// use kiln::ops::normalization::{fold_batchnorm_into_conv, BatchNormParams};
/// let bn = BatchNormParams {
///     scale: vec![2.0], bias: vec![1.0], mean: vec![0.5], var: vec![4.0], epsilon: 0.0,
/// };
/// let (weight, bias) = fold_batchnorm_into_conv(&[1.0, -3.0], &[1, 2, 1, 1], Some(&[0.5]), &bn)?;
/// assert_eq!((weight, bias), (vec![1.0, -3.0], vec![1.0]));
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn fold_batchnorm_into_conv(
    weight: &[f32],
    weight_shape: &[usize],
    bias: Option<&[f32]>,
    bn: &BatchNormParams,
) -> Result<(Vec<f32>, Vec<f32>)> {
    const OP: &str = "fold_batchnorm_into_conv";
    let channels = bn.channels(OP)?;
    let mismatch = |detail: String| Error::ShapeMismatch { op: OP, detail };
    if weight_shape.len() < 2 || weight_shape[0] != channels {
        return Err(mismatch(format!(
            "weight must be [M, C/group, ...] with M = {channels} (the BatchNorm channels), got \
             {weight_shape:?}"
        )));
    }
    if weight.len() != weight_shape.iter().product::<usize>() {
        return Err(mismatch(format!(
            "weight shape {weight_shape:?} does not hold {} values",
            weight.len()
        )));
    }
    if let Some(bias) = bias.filter(|bias| bias.len() != channels) {
        return Err(mismatch(format!(
            "bias must have {channels} values (one per output channel), got {}",
            bias.len()
        )));
    }
    let per_channel = weight.len() / channels.max(1);
    let mut folded_weight = Vec::with_capacity(weight.len());
    let mut folded_bias = Vec::with_capacity(channels);
    for channel in 0..channels {
        let (multiplier, offset) = bn.channel_affine(channel);
        let filter = &weight[channel * per_channel..][..per_channel];
        folded_weight.extend(filter.iter().map(|&w| (f64::from(w) * multiplier) as f32));
        let conv_bias = bias.map_or(0.0, |bias| f64::from(bias[channel]));
        folded_bias.push((conv_bias * multiplier + offset) as f32);
    }
    Ok((folded_weight, folded_bias))
}
