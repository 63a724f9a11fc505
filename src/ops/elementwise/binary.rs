//! Two-input element-wise arithmetic with numpy broadcasting (Add, Sub, Mul, Div, Pow, Min, Max),
//! and the variadic ONNX Min and Max as chains of the binary kernel.

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::ops::elementwise::broadcast::{
    broadcast_output_shape, broadcast_params, launch_elementwise, reference_offset,
};
use crate::ops::elementwise::{ElementwiseReference, ELEMENTWISE_BINARY, ULP, UNIT_ROUNDOFF};
use crate::tensor::shape::broadcast_strides;
use crate::tensor::{DType, GpuTensor};

/// A two-input element-wise op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a · b`.
    Mul,
    /// `a / b`; `x/±0 = ±inf` by the signs, `0/0 = NaN`.
    Div,
    /// `aᵇ` with C's `pow` semantics (numpy, ONNX): NaN for a negative base and a non-integer
    /// exponent, `x⁰ = 1` and `1ʸ = 1` even for NaN.
    Pow,
    /// The smaller input; NaN if either is NaN.
    Min,
    /// The larger input; NaN if either is NaN.
    Max,
}

/// An op ONNX defines over any number of broadcast inputs: Sum, Min, Max (folded left with their
/// [`BinaryOp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VariadicOp {
    /// ONNX Sum.
    Sum,
    /// ONNX Min.
    Min,
    /// ONNX Max.
    Max,
}

impl VariadicOp {
    /// Every variadic op.
    pub const ALL: [VariadicOp; 3] = [VariadicOp::Sum, VariadicOp::Min, VariadicOp::Max];

    /// The binary op folded over the inputs.
    pub fn binary(self) -> BinaryOp {
        match self {
            VariadicOp::Sum => BinaryOp::Add,
            VariadicOp::Min => BinaryOp::Min,
            VariadicOp::Max => BinaryOp::Max,
        }
    }

    /// The ONNX operator name.
    pub fn name(self) -> &'static str {
        match self {
            VariadicOp::Sum => "Sum",
            VariadicOp::Min => "Min",
            VariadicOp::Max => "Max",
        }
    }
}

impl BinaryOp {
    /// Every binary op.
    pub const ALL: [BinaryOp; 7] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Pow,
        BinaryOp::Min,
        BinaryOp::Max,
    ];

    /// The code `elementwise_binary.wgsl` switches on.
    pub fn code(self) -> u32 {
        match self {
            BinaryOp::Add => 0,
            BinaryOp::Sub => 1,
            BinaryOp::Mul => 2,
            BinaryOp::Div => 3,
            BinaryOp::Pow => 4,
            BinaryOp::Min => 5,
            BinaryOp::Max => 6,
        }
    }

    /// The exact value in f64 (IEEE semantics; Min and Max propagate NaN like `np.minimum`).
    pub fn reference(self, a: f64, b: f64) -> f64 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
            BinaryOp::Pow => a.powf(b),
            BinaryOp::Min | BinaryOp::Max if a.is_nan() || b.is_nan() => f64::NAN,
            BinaryOp::Min => a.min(b),
            BinaryOp::Max => a.max(b),
        }
    }

    /// A bound on the kernel's absolute error for inputs `a`, `b` with exact output `y`, from
    /// WGSL's accuracy table (one ULP of `y` is at most 2⁻²³·|y|):
    /// - Add, Sub, Mul: correctly rounded, 2⁻²⁴·|y|.
    /// - Div: 2.5 ULP (for |b| in [2⁻¹²⁶, 2¹²⁶]).
    /// - Min, Max: exact.
    /// - Pow: `exp2(t)` with `t = b·log2|a|`. log2 is within 2⁻²¹ absolute on [0.5, 2] and 3 ULP
    ///   elsewhere, so t is off by δ = |b|·err(log2) + 2⁻²⁴|t| (the product's rounding); exp2 turns
    ///   that into a relative error ln2·δ(1 + ln2·δ) and adds its own (3 + 2|t|) ULP. A 1% margin
    ///   covers the product of the two relative errors.
    pub fn error_bound(self, a: f64, b: f64, y: f64) -> f64 {
        match self {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => UNIT_ROUNDOFF * y.abs(),
            BinaryOp::Div => 2.5 * ULP * y.abs(),
            BinaryOp::Min | BinaryOp::Max => 0.0,
            BinaryOp::Pow => {
                let log2_a = a.abs().log2();
                let t = b * log2_a;
                let log2_error = if (0.5..=2.0).contains(&a.abs()) {
                    2f64.powi(-21)
                } else {
                    3.0 * ULP * log2_a.abs()
                };
                let delta = b.abs() * log2_error + UNIT_ROUNDOFF * t.abs();
                let ln2_delta = std::f64::consts::LN_2 * delta;
                let relative = ln2_delta * (1.0 + ln2_delta) + (3.0 + 2.0 * t.abs()) * ULP;
                1.01 * relative * y.abs()
            }
        }
    }
}

/// The reference of `op` on `a` (of `a_shape`) and `b` (of `b_shape`), broadcast.
pub fn reference_binary(
    op: BinaryOp,
    a: &[f32],
    a_shape: &[usize],
    b: &[f32],
    b_shape: &[usize],
) -> Result<ElementwiseReference> {
    let shape = broadcast_output_shape(op_name(op), &[a_shape, b_shape])?;
    let a_strides = broadcast_strides(a_shape, &shape);
    let b_strides = broadcast_strides(b_shape, &shape);
    let count: usize = shape.iter().product();
    let mut reference = ElementwiseReference {
        shape: shape.clone(),
        output: Vec::with_capacity(count),
        error_bound: Vec::with_capacity(count),
    };
    for index in 0..count {
        let a_value = f64::from(a[reference_offset(index, &shape, &a_strides)]);
        let b_value = f64::from(b[reference_offset(index, &shape, &b_strides)]);
        let y = op.reference(a_value, b_value);
        reference.output.push(y);
        let finite = y.is_finite();
        reference.error_bound.push(if finite {
            op.error_bound(a_value, b_value, y)
        } else {
            0.0
        });
    }
    Ok(reference)
}

/// The reference of `op` folded left over `inputs` (value, shape), broadcast: ONNX's variadic Min
/// and Max (exact, so the bound stays 0).
pub fn reference_variadic(
    op: BinaryOp,
    inputs: &[(&[f32], &[usize])],
) -> Result<ElementwiseReference> {
    let (first, rest) = inputs.split_first().ok_or_else(|| no_inputs(op))?;
    let mut folded = reference_binary(op, first.0, first.1, first.0, first.1)?;
    for &(values, shape) in rest {
        let as_f32 = folded.values();
        folded = reference_binary(op, &as_f32, &folded.shape.clone(), values, shape)?;
    }
    Ok(folded)
}

fn op_name(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "Add",
        BinaryOp::Sub => "Sub",
        BinaryOp::Mul => "Mul",
        BinaryOp::Div => "Div",
        BinaryOp::Pow => "Pow",
        BinaryOp::Min => "Min",
        BinaryOp::Max => "Max",
    }
}

fn no_inputs(op: BinaryOp) -> Error {
    Error::InvalidArgument {
        op: op_name(op),
        detail: "needs at least one input".into(),
    }
}

/// `a ∘ b` element-wise on the GPU with numpy broadcasting; the output has the broadcast shape.
/// Shapes that do not broadcast are an [`Error::ShapeMismatch`].
///
/// ```no_run
/// # use kiln::{device::Gpu, tensor::GpuTensor, ops::elementwise::{binary, BinaryOp}};
/// # fn main() -> kiln::Result<()> {
/// let gpu = Gpu::from_env()?;
/// let column = GpuTensor::upload(&gpu, &[2, 1], &[10.0f32, 20.0])?;
/// let row = GpuTensor::upload(&gpu, &[3], &[1.0f32, 2.0, 3.0])?;
/// let sum = binary(&gpu, BinaryOp::Add, &column, &row)?;
/// assert_eq!(sum.shape(), [2, 3]);
/// assert_eq!(sum.read::<f32>(&gpu)?, vec![11.0, 12.0, 13.0, 21.0, 22.0, 23.0]);
/// # Ok(()) }
/// ```
pub fn binary(gpu: &Gpu, op: BinaryOp, a: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor> {
    let name = op_name(op);
    a.expect_dtype(name, DType::F32)?;
    b.expect_dtype(name, DType::F32)?;
    let shape = broadcast_output_shape(name, &[a.shape(), b.shape()])?;
    let params = broadcast_params(&shape, &[a.shape(), b.shape()])?;
    let output = GpuTensor::uninit(gpu, &shape, DType::F32)?;
    launch_elementwise(
        gpu,
        &ELEMENTWISE_BINARY,
        &[("BINARY_OP", f64::from(op.code()))],
        &params,
        &[a.buffer(), b.buffer()],
        output.buffer(),
    )?;
    Ok(output)
}

fn variadic(gpu: &Gpu, op: BinaryOp, inputs: &[&GpuTensor]) -> Result<GpuTensor> {
    let (first, rest) = inputs.split_first().ok_or_else(|| no_inputs(op))?;
    let shapes: Vec<&[usize]> = inputs.iter().map(|input| input.shape()).collect();
    broadcast_output_shape(op_name(op), &shapes)?;
    let mut folded = binary(gpu, op, first, first)?;
    for input in rest {
        folded = binary(gpu, op, &folded, input)?;
    }
    Ok(folded)
}

/// ONNX Min: the element-wise minimum of one or more inputs, broadcast together; NaN wins.
pub fn min(gpu: &Gpu, inputs: &[&GpuTensor]) -> Result<GpuTensor> {
    variadic(gpu, BinaryOp::Min, inputs)
}

/// ONNX Max: the element-wise maximum of one or more inputs, broadcast together; NaN wins.
pub fn max(gpu: &Gpu, inputs: &[&GpuTensor]) -> Result<GpuTensor> {
    variadic(gpu, BinaryOp::Max, inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_pow_and_nan_semantics() {
        assert!(BinaryOp::Pow.reference(-8.0, 0.5).is_nan());
        assert_eq!(BinaryOp::Pow.reference(-2.0, 3.0), -8.0);
        assert_eq!(BinaryOp::Pow.reference(f64::NAN, 0.0), 1.0);
        assert_eq!(BinaryOp::Pow.reference(1.0, f64::NAN), 1.0);
        assert!(BinaryOp::Min.reference(f64::NAN, 1.0).is_nan());
        assert!(BinaryOp::Max.reference(1.0, f64::NAN).is_nan());
        assert_eq!(BinaryOp::Div.reference(-1.0, 0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn broadcast_reference_and_variadic_fold() {
        let reference =
            reference_binary(BinaryOp::Sub, &[10.0, 20.0], &[2, 1], &[1.0, 2.0], &[2]).unwrap();
        assert_eq!(reference.shape, vec![2, 2]);
        assert_eq!(reference.values(), vec![9.0, 8.0, 19.0, 18.0]);
        let folded = reference_variadic(
            BinaryOp::Max,
            &[(&[1.0, 5.0], &[2]), (&[3.0], &[]), (&[0.0, 4.0], &[2, 1])],
        )
        .unwrap();
        assert_eq!(folded.values(), vec![3.0, 5.0, 4.0, 5.0]);
    }
}
