//! LayerNormalization (ONNX `LayerNormalization`): every row, the dims `axis..rank` of x flattened,
//! is normalized to zero mean and unit variance, then scaled and shifted element by element:
//! `y = (x − mean) / √(var + ε) · scale + bias`, with the population variance.
//!
//! `scale` and the optional `bias` must have the normalized shape `x.shape[axis..]` (leading 1s
//! aside); ONNX's other broadcasts of them are rejected.
//!
//! # Tolerance, derived (u = 2⁻²⁴)
//! The kernel gives each row one workgroup of [`LAYERNORM_WORKGROUP`] threads; each sums a strided
//! slice of `⌈n/256⌉` terms, then a tree of depth 8 combines them, so every f32 sum of the row has
//! an accumulation length `L = ⌈n/256⌉ + 8` and error `≤ L·u·Σ|terms|` (Higham §3.1). With the mean
//! formed as `sum · (1/n)` (two more roundings), its error is `Δ ≤ (L + 2)·u·Σ|x|/n`. The variance
//! of the deviations from that mean is `var + Δ²` (the exact deviations sum to zero), and its own
//! roundings (subtract, square, sum, scale) add `(L + 5)·u·(var + Δ²)`. Adding ε costs `u/2` and
//! WGSL's `inverseSqrt` 2 ULP (`4u`) of relative error in `1/s`, `s = √(var + ε)`, besides half the
//! variance's relative error. The normalized `z = (x − mean)/s` is then off by
//! `Δ/s + |z|·(ρ + 3u)` (ρ the relative error of `1/s`; 3u for the subtract and two multiplies),
//! scaled by `|scale|`, plus `u·|y|` for adding the bias and `u·|y|` for rounding the reference.
//! The tolerance is twice that first-order bound, the factor covering second-order terms.

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::grid_for;
use crate::ops::matmul::reference::F32_UNIT_ROUNDOFF;
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::shape::normalize_axis;
use crate::tensor::{DType, GpuTensor};

/// Threads per workgroup (one workgroup per row), `WORKGROUP_SIZE` in `shaders/layernorm.wgsl`.
pub const LAYERNORM_WORKGROUP: usize = 256;
/// Depth of the kernel's tree reduction: log2 of [`LAYERNORM_WORKGROUP`].
const TREE_DEPTH: usize = 8;

/// The LayerNormalization kernel.
pub const LAYERNORM_F32: ShaderProgram = ShaderProgram {
    name: "layernorm_f32",
    parts: &[include_str!("../../../shaders/layernorm.wgsl")],
    needs_f16: false,
};

/// The attributes of LayerNormalization.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormOptions {
    /// The first normalized dimension; negative counts from the end (ONNX default −1).
    pub axis: i64,
    /// Added to the variance (ONNX default 1e-5).
    pub epsilon: f32,
}

impl Default for LayerNormOptions {
    fn default() -> Self {
        LayerNormOptions {
            axis: -1,
            epsilon: 1e-5,
        }
    }
}

/// `(axis, rows, row_len)` of `shape` normalized from `options.axis` on.
fn rows_of(
    op: &'static str,
    shape: &[usize],
    options: &LayerNormOptions,
) -> Result<(usize, usize, usize)> {
    let axis = normalize_axis(op, options.axis, shape.len())?;
    if !(options.epsilon >= 0.0 && options.epsilon.is_finite()) {
        return Err(Error::InvalidArgument {
            op,
            detail: format!("epsilon must be finite and >= 0, got {}", options.epsilon),
        });
    }
    Ok((
        axis,
        shape[..axis].iter().product(),
        shape[axis..].iter().product(),
    ))
}

/// Checks that a scale or bias has the normalized shape, leading 1s aside.
fn check_param_shape(
    op: &'static str,
    name: &str,
    param: &[usize],
    normalized: &[usize],
) -> Result<()> {
    let strip = |shape: &[usize]| -> Vec<usize> {
        shape.iter().copied().skip_while(|&dim| dim == 1).collect()
    };
    if strip(param) == strip(normalized) {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            op,
            detail: format!("{name} must have the normalized shape {normalized:?}, got {param:?}"),
        })
    }
}

/// The exact LayerNormalization output and its per-element tolerances.
#[derive(Clone, Debug)]
pub struct LayerNormReference {
    /// The output, in f64.
    pub output: Vec<f64>,
    /// The allowed absolute error of the f32 kernel per element (see the module documentation).
    pub tolerances: Vec<f32>,
}

impl LayerNormReference {
    /// The output rounded to f32.
    pub fn values(&self) -> Vec<f32> {
        self.output.iter().map(|&v| v as f32).collect()
    }
}

/// The CPU reference: LayerNormalization of row-major `x` of `shape`, in f64; `scale` and `bias`
/// hold one value per element of a row.
pub fn reference_layernorm(
    x: &[f32],
    shape: &[usize],
    scale: &[f32],
    bias: Option<&[f32]>,
    options: &LayerNormOptions,
) -> Result<LayerNormReference> {
    const OP: &str = "reference_layernorm";
    let (_, rows, row_len) = rows_of(OP, shape, options)?;
    let lengths_ok = x.len() == rows * row_len
        && scale.len() == row_len
        && bias.is_none_or(|bias| bias.len() == row_len);
    if !lengths_ok {
        return Err(Error::ShapeMismatch {
            op: OP,
            detail: format!("x must hold {shape:?} and scale/bias {row_len} values each"),
        });
    }
    let u = F32_UNIT_ROUNDOFF;
    let accumulation = (row_len.div_ceil(LAYERNORM_WORKGROUP) + TREE_DEPTH) as f64;
    let mut reference = LayerNormReference {
        output: Vec::with_capacity(x.len()),
        tolerances: Vec::with_capacity(x.len()),
    };
    for row in x.chunks(row_len.max(1)).take(rows) {
        let n = row_len as f64;
        let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let mean_abs = row.iter().map(|&v| f64::from(v).abs()).sum::<f64>() / n;
        let var = row
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        let epsilon = f64::from(options.epsilon);
        let std = (var + epsilon).sqrt();
        let mean_error = (accumulation + 2.0) * u * mean_abs;
        let var_error = mean_error.powi(2) + (accumulation + 5.0) * u * (var + mean_error.powi(2));
        let inv_std_error = 0.5 * var_error / (var + epsilon) + 5.0 * u;
        for (i, &value) in row.iter().enumerate() {
            let z = (f64::from(value) - mean) / std;
            let gamma = f64::from(scale[i]);
            let y = z * gamma + bias.map_or(0.0, |bias| f64::from(bias[i]));
            let bound = gamma.abs() * (mean_error / std + z.abs() * (inv_std_error + 3.0 * u))
                + 2.0 * u * y.abs();
            reference.output.push(y);
            reference.tolerances.push((2.0 * bound) as f32);
        }
    }
    Ok(reference)
}

/// `LayerNormParams` of `shaders/layernorm.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct LayerNormUniforms {
    rows: u32,
    row_len: u32,
    inv_row_len: f32,
    epsilon: f32,
}

/// LayerNormalization of an f32 tensor on the GPU, one workgroup per normalized row.
pub fn layer_normalization(
    gpu: &Gpu,
    x: &GpuTensor,
    scale: &GpuTensor,
    bias: Option<&GpuTensor>,
    options: &LayerNormOptions,
) -> Result<GpuTensor> {
    const OP: &str = "layer_normalization";
    x.expect_dtype(OP, DType::F32)?;
    scale.expect_dtype(OP, DType::F32)?;
    let (axis, rows, row_len) = rows_of(OP, x.shape(), options)?;
    let normalized = &x.shape()[axis..];
    check_param_shape(OP, "scale", scale.shape(), normalized)?;
    if let Some(bias) = bias {
        bias.expect_dtype(OP, DType::F32)?;
        check_param_shape(OP, "bias", bias.shape(), normalized)?;
    }
    let y = GpuTensor::uninit(gpu, x.shape(), DType::F32)?;
    if x.is_empty() {
        return Ok(y);
    }
    let uniforms = LayerNormUniforms {
        rows: to_u32("layer_normalization rows", rows)?,
        row_len: to_u32("layer_normalization row length", row_len)?,
        inv_row_len: (1.0 / row_len as f64) as f32,
        epsilon: options.epsilon,
    };
    let constants = [("HAS_BIAS", f64::from(u8::from(bias.is_some())))];
    let pipeline = gpu.pipeline(&LAYERNORM_F32, &constants)?;
    let bindings = [
        (0, Binding::Storage(x.buffer())),
        (1, Binding::Storage(scale.buffer())),
        (
            2,
            bias.map_or(Binding::Unused, |bias| Binding::Storage(bias.buffer())),
        ),
        (3, Binding::Storage(y.buffer())),
        (4, Binding::Uniform(bytemuck::bytes_of(&uniforms))),
    ];
    gpu.dispatch(&pipeline, &bindings, grid_for(gpu, rows, 1)?)?;
    Ok(y)
}
