//! Activation functions: the reference definitions (in f64) and the codes the fused GPU epilogues
//! use (`shaders/activation.wgsl`). Semantics follow ONNX; NaN propagates through every function.

use crate::device::OverrideConstant;

/// An element-wise activation, fused into the epilogue of matmul (and later conv) kernels.
#[derive(Clone, Copy, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum Activation {
    /// `x`.
    #[default]
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `x` for x ≥ 0, `alpha·x` otherwise.
    LeakyRelu {
        /// Slope for negative inputs.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        alpha: f32,
    },
    /// `min(max(x, min), max)` (ONNX Clip; ReLU6 is `Clip { min: 0, max: 6 }`). When `min > max`
    /// every output is `max`, as in ONNX Runtime and numpy.
    Clip {
        /// Lower bound.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        min: f32,
        /// Upper bound.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        max: f32,
    },
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `x · sigmoid(x)` (SiLU, Swish).
    Silu,
    /// `0.5·x·(1 + erf(x/√2))` (exact GELU, ONNX default).
    Gelu,
    /// `clamp(alpha·x + beta, 0, 1)` (ONNX defaults alpha 0.2, beta 0.5).
    HardSigmoid {
        /// Slope.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        alpha: f32,
        /// Offset.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        beta: f32,
    },
    /// `x · clamp(x/6 + 1/2, 0, 1)`.
    HardSwish,
    /// `log(1 + eˣ)`, evaluated stably as `max(x, 0) + log(1 + e^-|x|)`.
    Softplus,
}

impl Activation {
    /// Every activation kind with typical parameters, for tests and the self-check.
    pub const ALL: [Activation; 11] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu { alpha: 0.1 },
        Activation::Clip { min: 0.0, max: 6.0 },
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Silu,
        Activation::Gelu,
        Activation::HardSigmoid {
            alpha: 0.2,
            beta: 0.5,
        },
        Activation::HardSwish,
        Activation::Softplus,
    ];

    /// The reference value, computed in f64.
    pub fn reference(self, x: f64) -> f64 {
        match self {
            Activation::Identity => x,
            Activation::Relu => {
                if x < 0.0 {
                    0.0
                } else {
                    x
                }
            }
            Activation::LeakyRelu { alpha } => {
                if x < 0.0 {
                    f64::from(alpha) * x
                } else {
                    x
                }
            }
            Activation::Clip { min, max } => {
                let raised = if x < f64::from(min) {
                    f64::from(min)
                } else {
                    x
                };
                if raised > f64::from(max) {
                    f64::from(max)
                } else {
                    raised
                }
            }
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::Tanh => x.tanh(),
            Activation::Silu => x / (1.0 + (-x).exp()),
            Activation::Gelu => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
            Activation::HardSigmoid { alpha, beta } => {
                (f64::from(alpha) * x + f64::from(beta)).clamp(0.0, 1.0)
            }
            Activation::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            Activation::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
        }
    }

    /// The code `shaders/activation.wgsl` switches on.
    pub fn code(self) -> u32 {
        match self {
            Activation::Identity => 0,
            Activation::Relu => 1,
            Activation::LeakyRelu { .. } => 2,
            Activation::Clip { .. } => 3,
            Activation::Sigmoid => 4,
            Activation::Tanh => 5,
            Activation::Silu => 6,
            Activation::Gelu => 7,
            Activation::HardSigmoid { .. } => 8,
            Activation::HardSwish => 9,
            Activation::Softplus => 10,
        }
    }

    /// The override constants that select this activation in a pipeline.
    pub fn override_constants(self) -> [OverrideConstant; 3] {
        let (alpha, beta) = match self {
            Activation::LeakyRelu { alpha } => (alpha, 0.0),
            Activation::Clip { min, max } => (min, max),
            Activation::HardSigmoid { alpha, beta } => (alpha, beta),
            _ => (0.0, 0.0),
        };
        [
            ("ACTIVATION", f64::from(self.code())),
            ("ACT_ALPHA", f64::from(alpha)),
            ("ACT_BETA", f64::from(beta)),
        ]
    }

    /// A bound on the absolute error of the GPU result, given the input `x`, a bound on the input's
    /// error, and the exact output `y`. It is the function's Lipschitz constant times the input
    /// error, plus its own f32 evaluation error: one rounding (2⁻²³·|y|) for the piecewise-linear
    /// ones, except that HardSigmoid rounds `alpha·x` before adding `beta` (2⁻²³·(|alpha·x| + |y|),
    /// which matters where they cancel) and HardSwish rounds `x/6` (a 2.5-ULP division), `+ 1/2`
    /// and the product (2⁻²³·|x|·(|x|/2 + 1) + 2⁻²³·|y|); for those built on `exp`/`tanh`, WGSL's 3 + 2|x| ULP accuracy, which is at most
    /// 63 ULP (< 2⁻¹⁸ relative) over |x| ≤ 30 where they have not yet saturated, plus 2⁻²⁰
    /// absolute for cancellation near zero; GELU adds the 1.5e-7 error of its erf approximation
    /// scaled by |x|/2. Softplus is `max(x, 0) + log1p(t)` with `t = e^-|x|` in [0, 1] and log1p as
    /// `2s·(1 + s²/3 + … + s¹²/13)`, `s = t / (2 + t)` ≤ 1/3 (truncation < 2⁻²⁴ relative): `2 + t`
    /// rounds by 2⁻²⁴, the division by 2.5 ULP, the products and the series' last add by 2⁻²⁴
    /// each (the inner terms are damped by s² ≤ 1/9), under 5·2⁻²³ relative to log1p(t) in all;
    /// t's own (3 + 2|x|)-ULP error passes through log1p with slope ≤ 1; the final add rounds
    /// once (2⁻²⁴·|y|), and a t below f32's smallest normal may be flushed to zero.
    pub fn error_bound(self, x: f64, input_error: f64, y: f64) -> f64 {
        let lipschitz = match self {
            Activation::Identity | Activation::Relu | Activation::Clip { .. } => 1.0,
            Activation::LeakyRelu { alpha } => f64::from(alpha.abs()).max(1.0),
            Activation::Sigmoid => 0.25,
            Activation::Tanh => 1.0,
            Activation::Silu => 1.1,
            Activation::Gelu => 1.13,
            Activation::HardSigmoid { alpha, .. } => f64::from(alpha.abs()),
            Activation::HardSwish => 1.5,
            Activation::Softplus => 1.0,
        };
        let evaluation = match self {
            Activation::Sigmoid | Activation::Tanh | Activation::Silu => {
                y.abs() * 2f64.powi(-18) + 2f64.powi(-20)
            }
            Activation::Gelu => y.abs() * 2f64.powi(-18) + 2f64.powi(-20) + 0.75e-7 * x.abs(),
            Activation::Softplus => {
                let t = (-x.abs()).exp();
                2f64.powi(-24) * y.abs()
                    + 5.0 * 2f64.powi(-23) * t.ln_1p()
                    + 2f64.powi(-23) * (3.0 + 2.0 * x.abs()) * t
                    + f64::from(f32::MIN_POSITIVE)
            }
            Activation::HardSigmoid { alpha, .. } => {
                (f64::from(alpha).abs() * x.abs() + y.abs()) * 2f64.powi(-23)
            }
            Activation::HardSwish => (x.abs() * (x.abs() / 2.0 + 1.0) + y.abs()) * 2f64.powi(-23),
            _ => y.abs() * 2f64.powi(-23),
        };
        lipschitz * input_error + evaluation
    }
}

/// An activation that stands as its own node (`Op::Unary`): every [`Activation`] except `Identity`
/// (that node is `Op::Identity`) and `Clip` (that node is `Op::Clip`, bounds as inputs), so the IR
/// has one spelling per meaning. It converts into the [`Activation`] epilogue a fused producer holds.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum PointwiseActivation {
    /// `max(x, 0)`.
    Relu,
    /// `x` for x ≥ 0, `alpha·x` otherwise.
    LeakyRelu {
        /// Slope for negative inputs.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        alpha: f32,
    },
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `x · sigmoid(x)` (SiLU, Swish).
    Silu,
    /// `0.5·x·(1 + erf(x/√2))` (exact GELU).
    Gelu,
    /// `clamp(alpha·x + beta, 0, 1)`.
    HardSigmoid {
        /// Slope.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        alpha: f32,
        /// Offset.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        beta: f32,
    },
    /// `x · clamp(x/6 + 1/2, 0, 1)`.
    HardSwish,
    /// `log(1 + eˣ)`.
    Softplus,
}

impl PointwiseActivation {
    /// Every standalone activation with typical parameters, for tests and the self-check.
    pub const ALL: [PointwiseActivation; 9] = [
        PointwiseActivation::Relu,
        PointwiseActivation::LeakyRelu { alpha: 0.1 },
        PointwiseActivation::Sigmoid,
        PointwiseActivation::Tanh,
        PointwiseActivation::Silu,
        PointwiseActivation::Gelu,
        PointwiseActivation::HardSigmoid {
            alpha: 0.2,
            beta: 0.5,
        },
        PointwiseActivation::HardSwish,
        PointwiseActivation::Softplus,
    ];
}

impl From<PointwiseActivation> for Activation {
    fn from(activation: PointwiseActivation) -> Activation {
        match activation {
            PointwiseActivation::Relu => Activation::Relu,
            PointwiseActivation::LeakyRelu { alpha } => Activation::LeakyRelu { alpha },
            PointwiseActivation::Sigmoid => Activation::Sigmoid,
            PointwiseActivation::Tanh => Activation::Tanh,
            PointwiseActivation::Silu => Activation::Silu,
            PointwiseActivation::Gelu => Activation::Gelu,
            PointwiseActivation::HardSigmoid { alpha, beta } => {
                Activation::HardSigmoid { alpha, beta }
            }
            PointwiseActivation::HardSwish => Activation::HardSwish,
            PointwiseActivation::Softplus => Activation::Softplus,
        }
    }
}

impl Activation {
    /// This activation as a standalone node's, or `None` for `Identity` and `Clip`, whose
    /// standalone forms are `Op::Identity` and `Op::Clip`.
    pub fn pointwise(self) -> Option<PointwiseActivation> {
        Some(match self {
            Activation::Identity | Activation::Clip { .. } => return None,
            Activation::Relu => PointwiseActivation::Relu,
            Activation::LeakyRelu { alpha } => PointwiseActivation::LeakyRelu { alpha },
            Activation::Sigmoid => PointwiseActivation::Sigmoid,
            Activation::Tanh => PointwiseActivation::Tanh,
            Activation::Silu => PointwiseActivation::Silu,
            Activation::Gelu => PointwiseActivation::Gelu,
            Activation::HardSigmoid { alpha, beta } => {
                PointwiseActivation::HardSigmoid { alpha, beta }
            }
            Activation::HardSwish => PointwiseActivation::HardSwish,
            Activation::Softplus => PointwiseActivation::Softplus,
        })
    }
}

/// The error function, to f64 precision: its Taylor series below 2.5, and above it 1 − erfc from
/// erfc's continued fraction (Abramowitz & Stegun 7.1.14), which converges fast there.
pub fn erf(x: f64) -> f64 {
    let z = x.abs();
    let magnitude = if z < 2.5 {
        let mut term = z;
        let mut sum = z;
        for n in 1..200 {
            term *= -z * z / f64::from(n);
            let contribution = term / f64::from(2 * n + 1);
            sum += contribution;
            if contribution.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        let mut fraction = z;
        for n in (1..80).rev() {
            fraction = z + f64::from(n) / 2.0 / fraction;
        }
        1.0 - (-z * z).exp() / std::f64::consts::PI.sqrt() / fraction
    };
    if x < 0.0 {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        // Values from tables of erf (A&S Table 7.1 and its extensions).
        let known = [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (2.5, 0.999_593_047_982_555),
            (3.0, 0.999_977_909_503_001_4),
            (-1.5, -0.966_105_146_475_310_7),
        ];
        for (x, want) in known {
            assert!(
                (erf(x) - want).abs() < 1e-14,
                "erf({x}) = {}, want {want}",
                erf(x)
            );
        }
    }

    #[test]
    fn nan_propagates_and_relu_family_is_exact() {
        for activation in Activation::ALL {
            assert!(activation.reference(f64::NAN).is_nan(), "{activation:?}");
        }
        assert_eq!(Activation::Relu.reference(-3.0), 0.0);
        assert_eq!(
            Activation::LeakyRelu { alpha: 0.1 }.reference(-2.0),
            f64::from(0.1f32) * -2.0
        );
        assert_eq!(Activation::Clip { min: 0.0, max: 6.0 }.reference(7.5), 6.0);
        assert_eq!(Activation::HardSwish.reference(4.0), 4.0);
        assert_eq!(Activation::HardSwish.reference(-4.0), 0.0);
        assert_eq!(Activation::Clip { min: 2.0, max: 1.0 }.reference(0.0), 1.0);
        assert!((Activation::Softplus.reference(0.0) - std::f64::consts::LN_2).abs() < 1e-15);
        assert_eq!(Activation::Softplus.reference(-800.0), 0.0);
        assert_eq!(Activation::Softplus.reference(800.0), 800.0);
        assert!((Activation::Silu.reference(1.0) - 0.731_058_578_630_004_9).abs() < 1e-15);
        assert!((Activation::Gelu.reference(1.0) - 0.841_344_746_068_542_9).abs() < 1e-14);
    }

    #[test]
    fn pointwise_round_trips_and_excludes_identity_and_clip() {
        for pointwise in PointwiseActivation::ALL {
            assert_eq!(Activation::from(pointwise).pointwise(), Some(pointwise));
        }
        let standalone = Activation::ALL.iter().filter(|a| a.pointwise().is_some());
        assert_eq!(standalone.count(), PointwiseActivation::ALL.len());
        assert_eq!(Activation::Identity.pointwise(), None);
        assert_eq!(Activation::Clip { min: 0.0, max: 6.0 }.pointwise(), None);
    }

    #[test]
    fn pointwise_serialises_as_the_activation_it_names() {
        for pointwise in PointwiseActivation::ALL {
            let json = serde_json::to_string(&pointwise).unwrap();
            assert_eq!(
                json,
                serde_json::to_string(&Activation::from(pointwise)).unwrap()
            );
        }
    }

    #[test]
    fn codes_are_distinct() {
        let mut codes: Vec<u32> = Activation::ALL.iter().map(|a| a.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Activation::ALL.len());
    }
}
