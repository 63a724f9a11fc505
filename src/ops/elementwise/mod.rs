//! Element-wise ops on f32 tensors of any rank: unary functions (Sqrt, Exp, Log, Neg, Abs and every
//! [`Activation`](crate::ops::Activation)), binary arithmetic with numpy broadcasting (Add, Sub,
//! Mul, Div, Pow, Min, Max; Min and Max take any number of inputs), and ONNX Where. Three kernels
//! in all, one per arity, with the op chosen by an override constant (`shaders/elementwise_*.wgsl`).
//!
//! NaN and ±inf follow ONNX and numpy (NaN propagates, `x/0 = ±inf`, `log 0 = -inf`, `sqrt(-1)` and
//! `(-8)^0.5` are NaN, Pow follows C's `pow`): the kernels decide these cases from bit patterns, so
//! they hold even where the shader compiler assumes finite floats (llvmpipe through GL).
//!
//! The references ([`UnaryOp::reference`], [`BinaryOp::reference`], [`reference_binary`]) compute
//! in f64; tolerances come from WGSL's accuracy table per op (see each op's `error_bound`).

mod binary;
mod broadcast;
mod select;
mod unary;

pub use binary::{binary, max, min, reference_binary, reference_variadic, BinaryOp, VariadicOp};
pub use broadcast::{broadcast_output_shape, MAX_RANK};
pub(crate) use broadcast::{broadcast_params, reference_offset};
pub use select::{reference_select, select};
pub use unary::{activation, clip, reference_activation, reference_unary, unary, UnaryOp};

use crate::device::ShaderProgram;

/// f32's unit roundoff, 2⁻²⁴: half an ULP, relative, for a correctly rounded result.
pub(crate) const UNIT_ROUNDOFF: f64 = 1.0 / 16_777_216.0;
/// One f32 ULP relative to a normal value, 2⁻²³: WGSL states builtin accuracy in these.
pub(crate) const ULP: f64 = 2.0 * UNIT_ROUNDOFF;
/// An absolute allowance of f32's smallest normal, 2⁻¹²⁶: WGSL lets results that small flush to 0.
pub(crate) const FLUSH_TO_ZERO: f64 = 1.175_494_350_822_287_5e-38;

/// Special-value tests and constructors by bit pattern, and the order key of max-reductions
/// (also part of the softmax and reduction programs).
pub(crate) const FLOAT_BITS_WGSL: &str =
    include_str!("../../../shaders/elementwise_float_bits.wgsl");
const INDEX_WGSL: &str = include_str!("../../../shaders/elementwise_index.wgsl");
const ACTIVATION_WGSL: &str = include_str!("../../../shaders/activation.wgsl");

/// Unary ops and activations: one input, one output, same shape.
pub const ELEMENTWISE_UNARY: ShaderProgram = ShaderProgram {
    name: "elementwise_unary",
    parts: &[
        ACTIVATION_WGSL,
        FLOAT_BITS_WGSL,
        INDEX_WGSL,
        include_str!("../../../shaders/elementwise_unary.wgsl"),
    ],
    needs_f16: false,
};

/// Binary ops with broadcasting.
pub const ELEMENTWISE_BINARY: ShaderProgram = ShaderProgram {
    name: "elementwise_binary",
    parts: &[
        FLOAT_BITS_WGSL,
        INDEX_WGSL,
        include_str!("../../../shaders/elementwise_binary.wgsl"),
    ],
    needs_f16: false,
};

/// Where: a u8 condition and two f32 inputs, all broadcast.
pub const ELEMENTWISE_WHERE: ShaderProgram = ShaderProgram {
    name: "elementwise_where",
    parts: &[
        INDEX_WGSL,
        include_str!("../../../shaders/elementwise_where.wgsl"),
    ],
    needs_f16: false,
};

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] =
    &[&ELEMENTWISE_UNARY, &ELEMENTWISE_BINARY, &ELEMENTWISE_WHERE];

/// An op's exact result in f64 beside the bound on the GPU's absolute error, per output element.
#[derive(Clone, Debug, PartialEq)]
pub struct ElementwiseReference {
    /// The output's shape.
    pub shape: Vec<usize>,
    /// The exact result.
    pub output: Vec<f64>,
    /// The bound on the kernel's absolute error against `output`.
    pub error_bound: Vec<f64>,
}

impl ElementwiseReference {
    /// The output rounded to f32.
    pub fn values(&self) -> Vec<f32> {
        self.output.iter().map(|&v| v as f32).collect()
    }

    /// Tolerances against [`values`](Self::values): the kernel's bound plus the half ULP by which
    /// the f32 reference itself differs from the exact value.
    pub fn tolerances(&self) -> Vec<f32> {
        self.output
            .iter()
            .zip(&self.error_bound)
            .map(|(&out, &bound)| (bound + UNIT_ROUNDOFF * out.abs() + FLUSH_TO_ZERO) as f32)
            .collect()
    }
}
