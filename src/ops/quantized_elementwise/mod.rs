//! Integer element-wise ops on int8/uint8 tensors, the layers between quantized layers:
//! QLinearAdd and QLinearMul (onnxruntime's operand order, numpy broadcasting), requantization
//! (QLinearConcat's inputs whose quantization differs from the output's) and a 256-entry lookup
//! table (any single-input float computation between a DequantizeLinear and a QuantizeLinear).
//!
//! What each computes, from the centred operands `a − a_zp` and `b − b_zp` (exact i32):
//! - Add: `y = sat(round((a − a_zp)·m_a + (b − b_zp)·m_b) + y_zp)`, `m_a ≈ a_scale / y_scale`;
//! - Mul: `y = sat(round(((a − a_zp)·(b − b_zp))·m) + y_zp)`, `m ≈ a_scale·b_scale / y_scale`;
//! - requantize: `y = sat(round((x − x_zp)·m) + y_zp)`, `m ≈ x_scale / y_scale`;
//! - lookup: `y = table[x − min(x's dtype)]`.
//!
//! Bit for bit on the GPU: every f32 operation is correctly rounded in WGSL (products, sums,
//! `round` as round-half-even), and none can be fused differently: Mul's and requantize's single
//! product follows an exact integer, and Add's multipliers are rounded to 16 significant bits
//! ([`ADD_MULTIPLIER_BITS`]) so that each product `(a − a_zp)·m` (|a − a_zp| ≤ 255, 8 bits) is
//! exact in f32; a fused multiply-add then rounds the same exact sum once, as the unfused form.
//! Multipliers below f32's smallest normal are 0 (WGSL may flush them) and above 2⁶⁴ are 2⁶⁴
//! (every nonzero product saturates either way).
//!
//! Against the float path `DQ → Add/Mul → Q`, which rounds each dequantized value, the sum or
//! product, and the quotient by `y_scale` (each relatively by 2⁻²⁴): both are within `ε` of the
//! exact real `v` before rounding, so their outputs differ by at most one step (and only where
//! `v` is within `ε` of a rounding boundary) as long as the two `ε` add up to less than one.
//! Mul and requantize: `ε ≤ 4·2⁻²⁴·|v|`, below one wherever `v` is not saturated. Add:
//! `ε ≤ (2⁻¹⁶ + 4·2⁻²⁴)·255·(m_a + m_b)`, below one while `m_a + m_b ≤` [`MAX_ADD_MULTIPLIER_SUM`]
//! (the lowering refuses larger ones).

mod gpu;
mod reference;
#[cfg(test)]
mod tests;

pub use gpu::{lookup_table, qlinear_binary, requantize};
pub use reference::{
    binary_value, quantized_range, reference_lookup_table, reference_qlinear_binary,
    reference_requantize, saturate_rounded, QuantizedOperand,
};

use crate::device::ShaderProgram;
use crate::error::{Error, Result};
use crate::tensor::DType;

/// Significant bits of QLinearAdd's multipliers: 16, so that a product with an 8-bit centred
/// operand has at most f32's 24.
pub const ADD_MULTIPLIER_BITS: i32 = 16;

/// The largest `a_scale/y_scale + b_scale/y_scale` for which QLinearAdd is within one output step
/// of the float path: `(2⁻¹⁶ + 4·2⁻²⁴)·255·128 ≈ 0.51 < 1` (module doc).
pub const MAX_ADD_MULTIPLIER_SUM: f32 = 128.0;

/// The cap on a multiplier, 2⁶⁴: any nonzero integer times it saturates.
const MAX_MULTIPLIER: f32 = 18_446_744_073_709_551_616.0;

/// QLinearAdd, QLinearMul, requantization, each element of an int8/uint8 output from one or
/// two broadcast int8/uint8 inputs, four outputs (one u32 word) per thread.
pub const QUANTIZED_ELEMENTWISE: ShaderProgram = ShaderProgram {
    name: "quantized_elementwise",
    parts: &[
        include_str!("../../../shaders/elementwise_index.wgsl"),
        include_str!("../../../shaders/quantized_elementwise.wgsl"),
    ],
    needs_f16: false,
};

/// The 256-entry lookup table on int8/uint8, four outputs per thread.
pub const QUANTIZED_LOOKUP: ShaderProgram = ShaderProgram {
    name: "quantized_lookup",
    parts: &[include_str!("../../../shaders/quantized_lookup.wgsl")],
    needs_f16: false,
};

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] = &[&QUANTIZED_ELEMENTWISE, &QUANTIZED_LOOKUP];

/// The binary ops with an integer form: onnxruntime's QLinearAdd and QLinearMul.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum QLinearBinaryOp {
    /// `a + b`.
    Add,
    /// `a · b`.
    Mul,
}

impl QLinearBinaryOp {
    /// onnxruntime's name of the op.
    pub fn name(self) -> &'static str {
        match self {
            QLinearBinaryOp::Add => "QLinearAdd",
            QLinearBinaryOp::Mul => "QLinearMul",
        }
    }

    /// `OP` of `shaders/quantized_elementwise.wgsl`.
    fn code(self) -> u32 {
        match self {
            QLinearBinaryOp::Add => 0,
            QLinearBinaryOp::Mul => 1,
        }
    }
}

/// `OP` of `shaders/quantized_elementwise.wgsl` for requantization.
const REQUANTIZE_CODE: u32 = 2;

/// A per-tensor 8-bit quantization: scale, zero point and dtype.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorQuantization {
    /// The step between adjacent levels (positive, normal).
    pub scale: f32,
    /// The level representing 0, in `dtype`'s range.
    pub zero_point: i32,
    /// `I8` or `U8`.
    pub dtype: DType,
}

impl TensorQuantization {
    /// Checks the scale (positive, normal) and zero point (in the dtype's range); errors name
    /// `op` and `what` (the operand).
    pub fn check(&self, op: &'static str, what: &str) -> Result<()> {
        let (low, high) = quantized_range(op, self.dtype)?;
        if !(self.scale.is_normal() && self.scale > 0.0) {
            return Err(Error::InvalidArgument {
                op,
                detail: format!(
                    "{what} scale {} is not a positive normal number",
                    self.scale
                ),
            });
        }
        if !(low..=high).contains(&self.zero_point) {
            return Err(Error::InvalidArgument {
                op,
                detail: format!(
                    "{what} zero point {} is outside {}'s [{low}, {high}]",
                    self.zero_point, self.dtype
                ),
            });
        }
        Ok(())
    }
}

/// The f32 multipliers one kernel applies to its centred operands (module doc).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Requantization {
    /// Add: `a_scale/y_scale` (16 significant bits); Mul: `a_scale·b_scale/y_scale`;
    /// requantize: `x_scale/y_scale`.
    pub a_multiplier: f32,
    /// Add: `b_scale/y_scale` (16 significant bits); otherwise 0.
    pub b_multiplier: f32,
}

impl Requantization {
    /// The multipliers of QLinearAdd or QLinearMul (ratios formed in f64, then rounded once).
    pub fn binary(op: QLinearBinaryOp, a_scale: f32, b_scale: f32, y_scale: f32) -> Self {
        let ratio = |scale: f32| f64::from(scale) / f64::from(y_scale);
        match op {
            QLinearBinaryOp::Add => Requantization {
                a_multiplier: bounded(round_significand(ratio(a_scale), ADD_MULTIPLIER_BITS)),
                b_multiplier: bounded(round_significand(ratio(b_scale), ADD_MULTIPLIER_BITS)),
            },
            QLinearBinaryOp::Mul => Requantization {
                a_multiplier: bounded((ratio(a_scale) * f64::from(b_scale)) as f32),
                b_multiplier: 0.0,
            },
        }
    }

    /// The multiplier of a requantization from `x_scale` to `y_scale`.
    pub fn single(x_scale: f32, y_scale: f32) -> Self {
        Requantization {
            a_multiplier: bounded((f64::from(x_scale) / f64::from(y_scale)) as f32),
            b_multiplier: 0.0,
        }
    }
}

/// `value` rounded (half to even) to `bits` significant bits, as f32 (exact: `bits` ≤ 24).
fn round_significand(value: f64, bits: i32) -> f32 {
    if value == 0.0 || !value.is_finite() {
        return value as f32;
    }
    let exponent = ((value.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let unit = 2f64.powi(exponent - (bits - 1));
    ((value / unit).round_ties_even() * unit) as f32
}

/// 0 below f32's smallest normal, at most [`MAX_MULTIPLIER`].
fn bounded(multiplier: f32) -> f32 {
    if multiplier < f32::MIN_POSITIVE {
        0.0
    } else {
        multiplier.min(MAX_MULTIPLIER)
    }
}
