//! The CPU reference of ONNX Gemm, built on the matmul reference, with its derived tolerance.
//!
//! Tolerance (u = 2⁻²⁴): the product `A'·B'` accumulated in f32 is within `(K + 2)·u·Σ|aᵢbᵢ|`
//! ([`MatmulReference`](crate::ops::matmul::MatmulReference)'s bound, whose 2 covers the epilogue);
//! scaling by alpha, scaling C by beta and adding them cost one rounding each, of at most
//! `u·|α|·Σ|aᵢbᵢ|`, `u·|β·c|` and `u·(|α|·Σ|aᵢbᵢ| + |β·c|)`. Together they stay below
//! `(K + 4)·u·(|α|·Σ|aᵢbᵢ| + |β·c|)`; comparing with the f32-rounded reference adds `u·|y|`.

use crate::error::{Error, Result};
use crate::ops::gemm::{c_strides, gemm_dims, GemmOptions};
use crate::ops::matmul::reference::F32_UNIT_ROUNDOFF;
use crate::ops::matmul::reference_matmul;
use crate::ops::Activation;

/// The exact Gemm output with what its tolerance needs.
#[derive(Clone, Debug)]
pub struct GemmReference {
    /// `alpha·A'·B' + beta·C`, in f64, row-major `[M, N]`.
    pub output: Vec<f64>,
    /// `|α|·Σ|aᵢbᵢ| + |β·c|` per element.
    pub magnitude: Vec<f64>,
    /// The reduction length K.
    pub k: usize,
}

impl GemmReference {
    /// The output rounded to f32.
    pub fn values(&self) -> Vec<f32> {
        self.output.iter().map(|&v| v as f32).collect()
    }

    /// Per-element absolute tolerances of the f32 kernel (derived in the module documentation).
    pub fn tolerances(&self) -> Vec<f32> {
        let accumulation = (self.k as f64 + 4.0) * F32_UNIT_ROUNDOFF;
        self.magnitude
            .iter()
            .zip(&self.output)
            .map(|(&magnitude, &y)| (accumulation * magnitude + F32_UNIT_ROUNDOFF * y.abs()) as f32)
            .collect()
    }
}

/// The CPU reference of Gemm: row-major `a` of `a_shape` (`[M, K]`, or `[K, M]` with `trans_a`),
/// `b` of `b_shape` (`[K, N]`, or `[N, K]` with `trans_b`), and an optional `c` with its shape,
/// unidirectionally broadcastable to `[M, N]`.
pub fn reference_gemm(
    a: &[f32],
    a_shape: &[usize],
    b: &[f32],
    b_shape: &[usize],
    c: Option<(&[f32], &[usize])>,
    options: &GemmOptions,
) -> Result<GemmReference> {
    const OP: &str = "reference_gemm";
    let dims = gemm_dims(OP, a_shape, b_shape, options)?;
    let (m, n, k) = (dims.m, dims.n, dims.k);
    let lengths_ok = a.len() == m * k
        && b.len() == k * n
        && c.is_none_or(|(c, shape)| c.len() == shape.iter().product::<usize>());
    if !lengths_ok {
        return Err(Error::ShapeMismatch {
            op: OP,
            detail: "a value slice does not match its shape".into(),
        });
    }
    let a_rows: Vec<f32> = if options.trans_a {
        (0..m * k)
            .map(|index| a[(index % k) * m + index / k])
            .collect()
    } else {
        a.to_vec()
    };
    let product = reference_matmul(&a_rows, b, &dims, None, Activation::Identity);
    let c_layout = c
        .map(|(values, shape)| c_strides(OP, shape, m, n).map(|strides| (values, strides)))
        .transpose()?;
    let (alpha, beta) = (f64::from(options.alpha), f64::from(options.beta));
    let mut reference = GemmReference {
        output: Vec::with_capacity(m * n),
        magnitude: Vec::with_capacity(m * n),
        k,
    };
    for (index, (&sum, &magnitude)) in product
        .pre_activation
        .iter()
        .zip(&product.magnitude)
        .enumerate()
    {
        let (row, col) = (index / n, index % n);
        let c_term = c_layout.map_or(0.0, |(values, [row_stride, col_stride])| {
            beta * f64::from(values[row * row_stride + col * col_stride])
        });
        reference.output.push(alpha * sum + c_term);
        reference
            .magnitude
            .push(alpha.abs() * magnitude + c_term.abs());
    }
    Ok(reference)
}
