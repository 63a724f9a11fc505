//! One-input element-wise ops: Sqrt, Exp, Log, Neg, Abs and every standalone activation, on f32
//! tensors of any shape; [`activation`] and [`clip`] launch the same kernel for any [`Activation`]
//! (Clip included, its bounds as pipeline constants).

use crate::device::Gpu;
use crate::error::Result;
use crate::ops::elementwise::broadcast::{broadcast_params, launch_elementwise};
use crate::ops::elementwise::{ElementwiseReference, ELEMENTWISE_UNARY, ULP};
use crate::ops::{Activation, PointwiseActivation};
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
    /// and SiLU as the fused form of `x·Sigmoid(x)`); never Identity or Clip, which are their own
    /// ops.
    Activation(PointwiseActivation),
}

impl UnaryOp {
    /// The elementary ops (activations are listed in [`PointwiseActivation::ALL`]).
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
            UnaryOp::Activation(_) => ACTIVATION_CODE,
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
            UnaryOp::Activation(activation) => Activation::from(activation).reference(x),
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
            UnaryOp::Activation(activation) => Activation::from(activation).error_bound(x, 0.0, y),
        }
    }
}

/// The reference of `op` on every element of `x` (of `shape`).
pub fn reference_unary(op: UnaryOp, x: &[f32], shape: &[usize]) -> ElementwiseReference {
    reference_pointwise(x, shape, |v| op.reference(v), |v, y| op.error_bound(v, y))
}

/// The reference of [`activation`] (any [`Activation`], Identity and Clip included) on every
/// element of `x` (of `shape`).
pub fn reference_activation(
    activation: Activation,
    x: &[f32],
    shape: &[usize],
) -> ElementwiseReference {
    let bound = |v, y| activation.error_bound(v, 0.0, y);
    reference_pointwise(x, shape, |v| activation.reference(v), bound)
}

/// `value` of every element of `x`, each with `error_bound(x, y)` (0 where y is not finite).
fn reference_pointwise(
    x: &[f32],
    shape: &[usize],
    value: impl Fn(f64) -> f64,
    error_bound: impl Fn(f64, f64) -> f64,
) -> ElementwiseReference {
    let output: Vec<f64> = x.iter().map(|&v| value(f64::from(v))).collect();
    let error_bound = x
        .iter()
        .zip(&output)
        .map(|(&v, &y)| {
            if y.is_finite() {
                error_bound(f64::from(v), y)
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
    let activation = match op {
        UnaryOp::Activation(activation) => Activation::from(activation),
        _ => Activation::Identity,
    };
    launch_unary(gpu, op.code(), activation, x)
}

/// Launches `elementwise_unary.wgsl` with op code `code` (0: `activation`) over `x`.
fn launch_unary(gpu: &Gpu, code: u32, activation: Activation, x: &GpuTensor) -> Result<GpuTensor> {
    x.expect_dtype("unary element-wise op", DType::F32)?;
    let output = GpuTensor::uninit(gpu, x.shape(), DType::F32)?;
    let params = broadcast_params(x.shape(), &[x.shape()])?;
    let mut constants = activation.override_constants().to_vec();
    constants.push(("UNARY_OP", f64::from(code)));
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

/// `activation(x)` element-wise on the GPU (the standalone form of the fused epilogues, any
/// [`Activation`], Identity and Clip included).
pub fn activation(gpu: &Gpu, activation: Activation, x: &GpuTensor) -> Result<GpuTensor> {
    launch_unary(gpu, ACTIVATION_CODE, activation, x)
}

/// The `UNARY_OP` code that selects the activation in `elementwise_unary.wgsl`.
const ACTIVATION_CODE: u32 = 0;

/// ONNX Clip with optional scalar bounds: a missing bound is f32's lowest or largest finite value,
/// as ONNX specifies, so `Clip(+inf)` with no upper bound is `f32::MAX`.
pub fn clip(gpu: &Gpu, x: &GpuTensor, min: Option<f32>, max: Option<f32>) -> Result<GpuTensor> {
    let bounds = Activation::Clip {
        min: min.unwrap_or(f32::MIN),
        max: max.unwrap_or(f32::MAX),
    };
    activation(gpu, bounds, x)
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
