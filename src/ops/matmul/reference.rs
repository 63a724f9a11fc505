//! The CPU reference for every matmul kernel: a plain triple loop in f64. Each dtype's reference
//! first turns its operands into exact f32 values (dequantizing where needed) and calls this.
//!
//! Tolerances are derived, not tuned. A dot product of K terms summed in f32, in any order and with
//! or without fused multiply-adds, is within γ·Σ|aᵢbᵢ| of the exact value, where γ = K·u/(1 − K·u)
//! and u = 2⁻²⁴ (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1); the bias adds one
//! rounding. [`MatmulReference::tolerances`] uses (K + 2)·u·(Σ|aᵢbᵢ| + |bias|), passes that through
//! the activation's own bound ([`Activation::error_bound`]) and adds the output store's error
//! ([`OutputPrecision`]).

use crate::error::{Error, Result};
use crate::ops::matmul::MatmulDims;
use crate::ops::Activation;

/// f32's unit roundoff, 2⁻²⁴.
pub const F32_UNIT_ROUNDOFF: f64 = 1.0 / 16_777_216.0;

/// How a kernel stores its output, which adds one last rounding to the error bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputPrecision {
    /// f32 output: correctly rounded, at most half an f32 ULP, u = 2⁻²⁴ relative.
    F32,
    /// f16 output. WGSL lets an f32 → f16 conversion round to either neighbour, so the stored
    /// value may be one whole f16 ULP away: 2⁻¹⁰ relative for normal values, and 2⁻²⁴ absolute
    /// (the subnormal spacing) below f16's smallest normal, 2⁻¹⁴.
    F16,
}

impl OutputPrecision {
    /// The bound on the output store's own error for an exact value `out`.
    pub fn store_error(self, out: f64) -> f64 {
        match self {
            OutputPrecision::F32 => F32_UNIT_ROUNDOFF * out.abs(),
            OutputPrecision::F16 => (out.abs() / 1024.0).max(1.0 / 16_777_216.0),
        }
    }
}

/// The exact product, kept in f64, with what its error bounds need.
#[derive(Clone, Debug)]
pub struct MatmulReference {
    /// `A·B + bias` before the activation.
    pub pre_activation: Vec<f64>,
    /// `Σ|aᵢbᵢ| + |bias|` per output element: the scale of its rounding error.
    pub magnitude: Vec<f64>,
    /// The final output, after the activation.
    pub output: Vec<f64>,
    /// The dimensions it was computed for.
    pub dims: MatmulDims,
    /// The activation applied.
    pub activation: Activation,
}

/// Computes `act(A·B + bias)` for row-major `a` and `b` as described by `dims`.
pub fn reference_matmul(
    a: &[f32],
    b: &[f32],
    dims: &MatmulDims,
    bias: Option<&[f32]>,
    activation: Activation,
) -> MatmulReference {
    let output_len = dims.batch * dims.m * dims.n;
    let mut reference = MatmulReference {
        pre_activation: Vec::with_capacity(output_len),
        magnitude: Vec::with_capacity(output_len),
        output: Vec::with_capacity(output_len),
        dims: *dims,
        activation,
    };
    for batch in 0..dims.batch {
        for row in 0..dims.m {
            let a_row = &a[(batch * dims.m + row) * dims.k..][..dims.k];
            for col in 0..dims.n {
                let bias_value = bias.map_or(0.0, |bias| f64::from(bias[col]));
                let (mut sum, mut magnitude) = (bias_value, bias_value.abs());
                for (k, &a_value) in a_row.iter().enumerate() {
                    let product = f64::from(a_value) * f64::from(b[dims.b_index(batch, k, col)]);
                    sum += product;
                    magnitude += product.abs();
                }
                reference.pre_activation.push(sum);
                reference.magnitude.push(magnitude);
                reference.output.push(activation.reference(sum));
            }
        }
    }
    reference
}

/// The reference of a weight-only kernel named `op` (int4, int8): `act(A·Wᵀ + bias)` with `a` of
/// shape `a_shape` (`[M, K]` or `[batch, M, K]`) and W `[rows, cols]` = `w_shape` given as
/// `w_dequantized`, the exact f32 values the kernels decode. A's length and the bias's (one value
/// per output channel) are checked against the shapes first.
pub fn reference_weight_only(
    op: &'static str,
    a: &[f32],
    a_shape: &[usize],
    w_shape: [usize; 2],
    w_dequantized: impl FnOnce() -> Vec<f32>,
    bias: Option<&[f32]>,
    activation: Activation,
) -> Result<MatmulReference> {
    let dims = MatmulDims::infer(op, a_shape, &w_shape, true)?;
    let mismatch = |detail: String| Err(Error::ShapeMismatch { op, detail });
    let needed = dims.batch * dims.m * dims.k;
    if a.len() != needed {
        return mismatch(format!(
            "A {a_shape:?} needs {needed} values, got {}",
            a.len()
        ));
    }
    if let Some(bias) = bias.filter(|bias| bias.len() != dims.n) {
        return mismatch(format!("bias has {} values, N is {}", bias.len(), dims.n));
    }
    Ok(reference_matmul(
        a,
        &w_dequantized(),
        &dims,
        bias,
        activation,
    ))
}

impl MatmulReference {
    /// The output rounded to f32.
    pub fn values(&self) -> Vec<f32> {
        self.output.iter().map(|&v| v as f32).collect()
    }

    /// Per-element absolute tolerances for a kernel that accumulates in f32 and stores its output
    /// in `output` precision.
    pub fn tolerances(&self, output: OutputPrecision) -> Vec<f32> {
        let accumulation = (self.dims.k as f64 + 2.0) * F32_UNIT_ROUNDOFF;
        self.pre_activation
            .iter()
            .zip(&self.magnitude)
            .zip(&self.output)
            .map(|((&pre, &magnitude), &out)| {
                let bound = self
                    .activation
                    .error_bound(pre, accumulation * magnitude, out)
                    + output.store_error(out);
                bound as f32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_product_by_hand() {
        // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]], + bias [1, -100], ReLU.
        let dims = MatmulDims::infer("t", &[2, 2], &[2, 2], false).unwrap();
        let reference = reference_matmul(
            &[1.0, 2.0, 3.0, 4.0],
            &[5.0, 6.0, 7.0, 8.0],
            &dims,
            Some(&[1.0, -100.0]),
            Activation::Relu,
        );
        assert_eq!(reference.values(), vec![20.0, 0.0, 44.0, 0.0]);
        assert_eq!(reference.magnitude[0], 1.0 + 5.0 + 14.0);
    }

    #[test]
    fn transposed_and_batched_b_agree_with_plain_layout() {
        let a: Vec<f32> = (0..2 * 3 * 4).map(|v| v as f32 - 7.0).collect();
        let b: Vec<f32> = (0..2 * 4 * 5).map(|v| (v % 7) as f32 - 3.0).collect();
        let mut b_t = vec![0.0; b.len()];
        for batch in 0..2 {
            for k in 0..4 {
                for n in 0..5 {
                    b_t[batch * 20 + n * 4 + k] = b[batch * 20 + k * 5 + n];
                }
            }
        }
        let plain = MatmulDims::infer("t", &[2, 3, 4], &[2, 4, 5], false).unwrap();
        let transposed = MatmulDims::infer("t", &[2, 3, 4], &[2, 5, 4], true).unwrap();
        let none = Activation::Identity;
        assert_eq!(
            reference_matmul(&a, &b, &plain, None, none).values(),
            reference_matmul(&a, &b_t, &transposed, None, none).values()
        );
    }
}
