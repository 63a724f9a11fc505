//! Element-wise arithmetic: the unary ops and activations, the binary ops with numpy broadcasting,
//! the variadic Sum / Min / Max, and Clip. Float tensors (f32, f16) compute in f64 through the
//! ops' own references ([`UnaryOp::reference`], [`BinaryOp::reference`],
//! [`Activation::reference`]) and round once to their dtype. Integer tensors compute in i64 and
//! wrap back to their width, as numpy does: Div truncates toward zero (ONNX, C), a zero divisor
//! is an error, Pow takes non-negative integer exponents.

use crate::error::Result;
use crate::graph::eval::args::{
    bad_value, expect_arity, expect_same_dtype, invalid, optional_non_empty, required, scalar_f64,
    unsupported, Inputs,
};
use crate::graph::eval::broadcast::broadcast_offsets;
use crate::graph::eval::element::{is_float, is_integer, tensor_from_f64, tensor_from_i64};
use crate::ops::elementwise::{BinaryOp, UnaryOp, VariadicOp};
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::HostTensor;

/// Sqrt, Exp, Log, Neg, Abs and the activations. Integers take Neg, Abs and Relu.
pub(crate) fn unary(op: UnaryOp, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let x = required(inputs, 0)?;
    let output = if is_float(x.dtype()) {
        let values = x.to_f64_vec().into_iter().map(|v| op.reference(v));
        tensor_from_f64(x.dtype(), x.shape(), values)?
    } else if is_integer(x.dtype()) {
        let apply: fn(i64) -> i64 = match op {
            UnaryOp::Neg => i64::wrapping_neg,
            UnaryOp::Abs => i64::wrapping_abs,
            UnaryOp::Activation(PointwiseActivation::Relu) => |v| v.max(0),
            _ => return Err(unsupported(format!("{op:?} of an {} tensor", x.dtype()))),
        };
        tensor_from_i64(
            x.dtype(),
            x.shape(),
            x.to_i64_vec("")?.into_iter().map(apply),
        )?
    } else {
        return Err(unsupported(format!("{op:?} of a {} tensor", x.dtype())));
    };
    Ok(vec![output])
}

/// Add, Sub, Mul, Div, Pow, Min, Max of two broadcast inputs.
pub(crate) fn binary(op: BinaryOp, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 2)?;
    Ok(vec![apply_binary(
        op,
        required(inputs, 0)?,
        required(inputs, 1)?,
    )?])
}

/// Sum (`Add`), Min and Max folded left over any number of broadcast inputs.
pub(crate) fn variadic(op: VariadicOp, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, usize::MAX)?;
    let mut folded = required(inputs, 0)?.clone();
    for index in 1..inputs.len() {
        folded = apply_binary(op.binary(), &folded, required(inputs, index)?)?;
    }
    Ok(vec![folded])
}

/// `op(a, b)` broadcast. The inputs share a dtype, except Pow's exponent, which may be any
/// numeric type; the output has `a`'s dtype.
fn apply_binary(op: BinaryOp, a: &HostTensor, b: &HostTensor) -> Result<HostTensor> {
    if op != BinaryOp::Pow {
        expect_same_dtype(a, b, "input 1")?;
    }
    let numeric = |t: &HostTensor| is_float(t.dtype()) || is_integer(t.dtype());
    if !numeric(a) || !numeric(b) {
        return Err(unsupported(format!(
            "{op:?} of {} and {} tensors",
            a.dtype(),
            b.dtype()
        )));
    }
    let (shape, offsets) = broadcast_offsets(&[a.shape(), b.shape()])?;
    let pairs = offsets[0].iter().zip(&offsets[1]);
    if is_integer(a.dtype()) && is_integer(b.dtype()) {
        let (x, y) = (a.to_i64_vec("")?, b.to_i64_vec("")?);
        let values = pairs
            .map(|(&i, &j)| integer_binary(op, x[i], y[j]))
            .collect::<Result<Vec<i64>>>()?;
        tensor_from_i64(a.dtype(), &shape, values)
    } else {
        let (x, y) = (a.to_f64_vec(), b.to_f64_vec());
        let values = pairs.map(|(&i, &j)| op.reference(x[i], y[j]));
        tensor_from_f64(a.dtype(), &shape, values)
    }
}

/// `op(a, b)` on integers, wrapping like numpy's fixed-width arithmetic.
fn integer_binary(op: BinaryOp, a: i64, b: i64) -> Result<i64> {
    Ok(match op {
        BinaryOp::Add => a.wrapping_add(b),
        BinaryOp::Sub => a.wrapping_sub(b),
        BinaryOp::Mul => a.wrapping_mul(b),
        BinaryOp::Div if b == 0 => return Err(bad_value(format!("integer division {a} / 0"))),
        BinaryOp::Div => a.wrapping_div(b),
        BinaryOp::Pow => integer_pow(a, b)?,
        BinaryOp::Min => a.min(b),
        BinaryOp::Max => a.max(b),
    })
}

/// `base^exponent` by squaring, wrapping; numpy rejects negative integer exponents, and so does
/// this.
fn integer_pow(base: i64, exponent: i64) -> Result<i64> {
    if exponent < 0 {
        return Err(bad_value(format!(
            "integer power {base}^{exponent}: integers cannot take negative integer powers"
        )));
    }
    let (mut result, mut square, mut rest) = (1i64, base, exponent);
    while rest > 0 {
        if rest & 1 == 1 {
            result = result.wrapping_mul(square);
        }
        square = square.wrapping_mul(square);
        rest >>= 1;
    }
    Ok(result)
}

/// Clip `(x, min?, max?)`: `min(max(x, min), max)`; absent bounds do not clip (floats through
/// [`Activation::Clip`], so NaN stays NaN and `min > max` gives `max`).
pub(crate) fn clip(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 3)?;
    let x = required(inputs, 0)?;
    let bound = |index: usize| -> Result<Option<&HostTensor>> {
        let bound = optional_non_empty(inputs, index);
        if let Some(bound) = bound {
            expect_same_dtype(x, bound, if index == 1 { "min" } else { "max" })?;
        }
        Ok(bound)
    };
    let (min, max) = (bound(1)?, bound(2)?);
    let output = if is_float(x.dtype()) {
        let limit = |bound: Option<&HostTensor>, default: f64| {
            bound.map_or(Ok(default), |b| scalar_f64(b, "a Clip bound"))
        };
        let clip = Activation::Clip {
            min: limit(min, f64::NEG_INFINITY)? as f32,
            max: limit(max, f64::INFINITY)? as f32,
        };
        let values = x.to_f64_vec().into_iter().map(|v| clip.reference(v));
        tensor_from_f64(x.dtype(), x.shape(), values)?
    } else if is_integer(x.dtype()) {
        let limit = |bound: Option<&HostTensor>, default: i64| match bound {
            None => Ok(default),
            Some(b) => match b.to_i64_vec("")?[..] {
                [value] => Ok(value),
                _ => Err(invalid("a Clip bound must hold one value")),
            },
        };
        let (low, high) = (limit(min, i64::MIN)?, limit(max, i64::MAX)?);
        let values = x.to_i64_vec("")?.into_iter().map(|v| v.max(low).min(high));
        tensor_from_i64(x.dtype(), x.shape(), values)?
    } else {
        return Err(unsupported(format!("Clip of a {} tensor", x.dtype())));
    };
    Ok(vec![output])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::{DType, TensorData};
    use half::f16;

    fn t(shape: &[usize], data: TensorData) -> HostTensor {
        HostTensor::new(shape, data).unwrap()
    }

    fn f32s(shape: &[usize], values: &[f32]) -> HostTensor {
        HostTensor::from_f32(shape, values.to_vec()).unwrap()
    }

    #[test]
    fn float_binary_broadcasts() {
        let a = f32s(&[2, 1], &[1.0, 2.0]);
        let b = f32s(&[3], &[10.0, 20.0, 30.0]);
        let sum = binary(BinaryOp::Add, &[Some(&a), Some(&b)]).unwrap();
        assert_eq!(sum[0].shape(), &[2, 3]);
        assert_eq!(
            sum[0].as_f32().unwrap(),
            &[11.0, 21.0, 31.0, 12.0, 22.0, 32.0]
        );
        let quotient = binary(BinaryOp::Div, &[Some(&a), Some(&f32s(&[], &[0.0]))]).unwrap();
        assert_eq!(quotient[0].as_f32().unwrap(), &[f32::INFINITY; 2]);
    }

    #[test]
    fn integer_binary_wraps_and_truncates() {
        let a = t(&[4], TensorData::I32(vec![7, -7, 7, -7]));
        let b = t(&[4], TensorData::I32(vec![2, 2, -2, -2]));
        let quotient = binary(BinaryOp::Div, &[Some(&a), Some(&b)]).unwrap();
        assert_eq!(quotient[0].data(), &TensorData::I32(vec![3, -3, -3, 3]));
        let small = t(&[2], TensorData::U8(vec![3, 250]));
        let step = t(&[], TensorData::U8(vec![10]));
        let difference = binary(BinaryOp::Sub, &[Some(&small), Some(&step)]).unwrap();
        assert_eq!(difference[0].data(), &TensorData::U8(vec![249, 240]));
        let sum = binary(BinaryOp::Add, &[Some(&small), Some(&step)]).unwrap();
        assert_eq!(sum[0].data(), &TensorData::U8(vec![13, 4]));
        let zero = t(&[], TensorData::I32(vec![0]));
        assert!(binary(BinaryOp::Div, &[Some(&a), Some(&zero)]).is_err());
        assert!(binary(BinaryOp::Add, &[Some(&a), Some(&small)]).is_err());
    }

    #[test]
    fn pow_mixes_types() {
        let base = t(&[3], TensorData::I64(vec![1, 2, 3]));
        let exponent = t(&[3], TensorData::I32(vec![4, 5, 6]));
        let powers = binary(BinaryOp::Pow, &[Some(&base), Some(&exponent)]).unwrap();
        assert_eq!(powers[0].data(), &TensorData::I64(vec![1, 32, 729]));
        let root = f32s(&[1], &[0.5]);
        let roots = binary(BinaryOp::Pow, &[Some(&base), Some(&root)]).unwrap();
        assert_eq!(roots[0].data(), &TensorData::I64(vec![1, 1, 1]));
        let float_base = f32s(&[2], &[2.0, -8.0]);
        let cubes = binary(
            BinaryOp::Pow,
            &[Some(&float_base), Some(&t(&[], TensorData::I64(vec![3])))],
        )
        .unwrap();
        assert_eq!(cubes[0].as_f32().unwrap(), &[8.0, -512.0]);
        let negative = t(&[], TensorData::I64(vec![-1]));
        assert!(binary(BinaryOp::Pow, &[Some(&base), Some(&negative)]).is_err());
    }

    #[test]
    fn unary_covers_floats_halves_and_integers() {
        let x = f32s(&[3], &[-1.0, 0.0, 4.0]);
        let roots = unary(UnaryOp::Sqrt, &[Some(&x)]).unwrap();
        assert!(roots[0].as_f32().unwrap()[0].is_nan());
        assert_eq!(&roots[0].as_f32().unwrap()[1..], &[0.0, 2.0]);
        let halves = t(&[2], TensorData::F16(vec![f16::from_f32(-2.0), f16::ONE]));
        let relu = unary(
            UnaryOp::Activation(PointwiseActivation::Relu),
            &[Some(&halves)],
        )
        .unwrap();
        assert_eq!(relu[0].data(), &TensorData::F16(vec![f16::ZERO, f16::ONE]));
        let bytes = t(&[2], TensorData::I8(vec![-128, 5]));
        let negated = unary(UnaryOp::Neg, &[Some(&bytes)]).unwrap();
        assert_eq!(negated[0].data(), &TensorData::I8(vec![-128, -5]));
        assert!(unary(UnaryOp::Exp, &[Some(&bytes)]).is_err());
        let flags = t(&[1], TensorData::Bool(vec![true]));
        assert!(unary(UnaryOp::Abs, &[Some(&flags)]).is_err());
    }

    #[test]
    fn variadic_folds_every_input() {
        let a = f32s(&[2], &[1.0, 5.0]);
        let b = f32s(&[1], &[3.0]);
        let c = f32s(&[2, 1], &[0.0, f32::NAN]);
        let max = variadic(VariadicOp::Max, &[Some(&a), Some(&b), Some(&c)]).unwrap();
        let values = max[0].as_f32().unwrap();
        assert_eq!(&values[..2], &[3.0, 5.0]);
        assert!(values[2..].iter().all(|v| v.is_nan()));
        let single = variadic(VariadicOp::Sum, &[Some(&a)]).unwrap();
        assert_eq!(single[0], a);
        assert!(variadic(VariadicOp::Sum, &[]).is_err());
    }

    #[test]
    fn clip_with_absent_and_integer_bounds() {
        let x = f32s(&[4], &[-2.0, 0.5, 9.0, f32::NAN]);
        let low = f32s(&[], &[0.0]);
        let clipped = clip(&[Some(&x), Some(&low), None]).unwrap();
        let values = clipped[0].as_f32().unwrap();
        assert_eq!(&values[..3], &[0.0, 0.5, 9.0]);
        assert!(values[3].is_nan());
        let ints = t(&[3], TensorData::I8(vec![-100, 3, 100]));
        let high = t(&[], TensorData::I8(vec![10]));
        let clipped = clip(&[Some(&ints), None, Some(&high)]).unwrap();
        assert_eq!(clipped[0].data(), &TensorData::I8(vec![-100, 3, 10]));
        let wrong = t(&[], TensorData::I64(vec![1]));
        assert!(clip(&[Some(&ints), Some(&wrong)]).is_err());
        assert_eq!(clipped[0].dtype(), DType::I8);
    }
}
