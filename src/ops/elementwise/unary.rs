//! One-input element-wise ops: Sqrt, Exp, Log, Neg, Abs and every activation as a standalone op
//! (Clip included), on f32 tensors of any shape.

use crate::device::Gpu;
use crate::error::Result;
use crate::ops::elementwise::broadcast::{broadcast_params, launch_elementwise};
use crate::ops::elementwise::{ElementwiseReference, ELEMENTWISE_UNARY, ULP};
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

/// A one-input element-wise op.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum UnaryOp {
    /// `√x`; NaN below zero, `√-0 = -0`.
    Sqrt,
    /// `eˣ`; `+inf` past f32's range, 0 below it.
    Exp,
    /// `ln x`; `-inf` at ±0, NaN below zero.
    Log,
    /// `-x` (flips the sign bit, exact).
    Neg,
    /// `|x|` (clears the sign bit, exact).
    Abs,
    /// An activation (ONNX Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Gelu, Softplus,
    /// Clip, and SiLU as the fused form of `x·Sigmoid(x)`).
    Activation(Activation),
}

impl UnaryOp {
    /// The elementary ops (activations are listed in [`Activation::ALL`]).
    pub const ELEMENTARY: [UnaryOp; 5] = [
        UnaryOp::Sqrt,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Neg,
        UnaryOp::Abs,
    ];

    /// The code `elementwise_unary.wgsl` switches on (0: the activation).
    pub fn code(self) -> u32 {
        match self {
            UnaryOp::Activation(_) => 0,
            UnaryOp::Sqrt => 1,
            UnaryOp::Exp => 2,
            UnaryOp::Log => 3,
            UnaryOp::Neg => 4,
            UnaryOp::Abs => 5,
        }
    }

    /// The exact value in f64 (IEEE semantics for NaN and ±inf, as numpy).
    pub fn reference(self, x: f64) -> f64 {
        match self {
            UnaryOp::Sqrt => x.sqrt(),
            UnaryOp::Exp => x.exp(),
            UnaryOp::Log => x.ln(),
            UnaryOp::Neg => -x,
            UnaryOp::Abs => x.abs(),
            UnaryOp::Activation(activation) => activation.reference(x),
        }
    }

    /// A bound on the kernel's absolute error for input `x` with exact output `y`, from WGSL's
    /// accuracy table (one ULP of `y` is at most 2⁻²³·|y|):
    /// - Sqrt: WGSL computes it as `1/inverseSqrt(x)`: 2 ULP, then a 2.5-ULP division: 5 ULP.
    /// - Exp: (3 + 2|x|) ULP.
    /// - Log: 2⁻²¹ absolute for x in [0.5, 2], 3 ULP elsewhere.
    /// - Neg, Abs: exact (bit operations).
    /// - Activations: [`Activation::error_bound`] with an exact input.
    pub fn error_bound(self, x: f64, y: f64) -> f64 {
        match self {
            UnaryOp::Sqrt => 5.0 * ULP * y.abs(),
            UnaryOp::Exp => (3.0 + 2.0 * x.abs()) * ULP * y.abs(),
            UnaryOp::Log if (0.5..=2.0).contains(&x) => 2f64.powi(-21),
            UnaryOp::Log => 3.0 * ULP * y.abs(),
            UnaryOp::Neg | UnaryOp::Abs => 0.0,
            UnaryOp::Activation(activation) => activation.error_bound(x, 0.0, y),
        }
    }
}

/// The reference of `op` on every element of `x` (of `shape`).
pub fn reference_unary(op: UnaryOp, x: &[f32], shape: &[usize]) -> ElementwiseReference {
    let output: Vec<f64> = x.iter().map(|&v| op.reference(f64::from(v))).collect();
    let error_bound = x
        .iter()
        .zip(&output)
        .map(|(&v, &y)| {
            if y.is_finite() {
                op.error_bound(f64::from(v), y)
            } else {
                0.0
            }
        })
        .collect();
    ElementwiseReference {
        shape: shape.to_vec(),
        output,
        error_bound,
    }
}

/// `op(x)` element-wise on the GPU; the output has x's shape.
///
/// ```no_run
/// # use kiln::{device::Gpu, tensor::GpuTensor, ops::elementwise::{unary, UnaryOp}};
/// # fn main() -> kiln::Result<()> {
/// let gpu = Gpu::from_env()?;
/// let x = GpuTensor::upload(&gpu, &[3], &[4.0f32, 0.0, -1.0])?;
/// let y = unary(&gpu, UnaryOp::Sqrt, &x)?.read::<f32>(&gpu)?;
/// assert_eq!((y[0], y[1]), (2.0, 0.0));
/// assert!(y[2].is_nan());
/// # Ok(()) }
/// ```
pub fn unary(gpu: &Gpu, op: UnaryOp, x: &GpuTensor) -> Result<GpuTensor> {
    x.expect_dtype("unary element-wise op", DType::F32)?;
    let output = GpuTensor::uninit(gpu, x.shape(), DType::F32)?;
    let params = broadcast_params(x.shape(), &[x.shape()])?;
    let activation = match op {
        UnaryOp::Activation(activation) => activation,
        _ => Activation::Identity,
    };
    let mut constants = activation.override_constants().to_vec();
    constants.push(("UNARY_OP", f64::from(op.code())));
    launch_elementwise(
        gpu,
        &ELEMENTWISE_UNARY,
        &constants,
        &params,
        &[x.buffer()],
        output.buffer(),
    )?;
    Ok(output)
}

/// `activation(x)` element-wise on the GPU (the standalone form of the fused epilogues).
pub fn activation(gpu: &Gpu, activation: Activation, x: &GpuTensor) -> Result<GpuTensor> {
    unary(gpu, UnaryOp::Activation(activation), x)
}

/// ONNX Clip with optional scalar bounds: a missing bound is f32's lowest or largest finite value,
/// as ONNX specifies, so `Clip(+inf)` with no upper bound is `f32::MAX`.
pub fn clip(gpu: &Gpu, x: &GpuTensor, min: Option<f32>, max: Option<f32>) -> Result<GpuTensor> {
    let bounds = Activation::Clip {
        min: min.unwrap_or(f32::MIN),
        max: max.unwrap_or(f32::MAX),
    };
    unary(gpu, UnaryOp::Activation(bounds), x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values_follow_ieee() {
        assert!(UnaryOp::Sqrt.reference(-1.0).is_nan());
        assert_eq!(UnaryOp::Log.reference(0.0), f64::NEG_INFINITY);
        assert!(UnaryOp::Log.reference(-2.0).is_nan());
        assert_eq!(UnaryOp::Exp.reference(f64::NEG_INFINITY), 0.0);
        assert_eq!(UnaryOp::Abs.reference(-3.0), 3.0);
    }

    #[test]
    fn bounds_scale_with_the_output() {
        let bound = UnaryOp::Exp.error_bound(1.0, 1f64.exp());
        assert!((bound - 5.0 * ULP * 1f64.exp()).abs() < 1e-20);
        assert_eq!(UnaryOp::Neg.error_bound(2.0, -2.0), 0.0);
        assert!(UnaryOp::Sqrt.error_bound(4.0, 2.0) > crate::ops::elementwise::UNIT_ROUNDOFF * 2.0);
    }
}
