//! Comparisons (Equal, Less, LessOrEqual, Greater, GreaterOrEqual) with numpy broadcasting, Not,
//! Where, and Cast. Comparisons take any dtype, both inputs alike, and give booleans (NaN compares
//! unequal and unordered); Where selects between two inputs of any shared dtype.

use crate::error::Result;
use crate::graph::eval::args::{expect_arity, expect_same_dtype, output_len, required, Inputs};
use crate::graph::eval::broadcast::broadcast_offsets;
use crate::graph::eval::element::{elements, with_element_type, HostElement};
use crate::ops::convert::{reference_cast, reference_compare, reference_not, CompareOp};
use crate::tensor::shape::broadcast_shapes;
use crate::tensor::{DType, HostTensor, TensorData};

/// `a op b`, broadcast, as booleans ([`reference_compare`]).
pub(crate) fn compare(op: CompareOp, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 2)?;
    let (a, b) = (required(inputs, 0)?, required(inputs, 1)?);
    expect_same_dtype(a, b, "input 1")?;
    output_len(&broadcast_shapes("", a.shape(), b.shape())?)?;
    Ok(vec![reference_compare(op, a, b)?])
}

/// Logical Not of a boolean tensor ([`reference_not`]).
pub(crate) fn not(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    Ok(vec![reference_not(required(inputs, 0)?)?])
}

/// Where `(condition, x, y)`: `condition ? x : y`, all three broadcast.
pub(crate) fn select(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 3, 3)?;
    let condition = required(inputs, 0)?;
    let (x, y) = (required(inputs, 1)?, required(inputs, 2)?);
    let flags = elements::<bool>(condition, "the condition")?;
    expect_same_dtype(x, y, "input 2")?;
    let (shape, offsets) = broadcast_offsets(&[condition.shape(), x.shape(), y.shape()])?;
    let data = with_element_type!(x.dtype(), T => select_elements::<T>(flags, x, y, &offsets)?);
    Ok(vec![HostTensor::new(&shape, data)?])
}

fn select_elements<T: HostElement>(
    flags: &[bool],
    x: &HostTensor,
    y: &HostTensor,
    offsets: &[Vec<usize>],
) -> Result<TensorData> {
    let (x, y) = (elements::<T>(x, "x")?, elements::<T>(y, "y")?);
    let chosen = (0..offsets[0].len())
        .map(|index| {
            if flags[offsets[0][index]] {
                x[offsets[1][index]]
            } else {
                y[offsets[2][index]]
            }
        })
        .collect();
    Ok(T::into_data(chosen))
}

/// Cast to `to` ([`reference_cast`]: numpy's `astype`).
pub(crate) fn cast(to: DType, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    Ok(vec![reference_cast(required(inputs, 0)?, to)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

    fn t(shape: &[usize], data: TensorData) -> HostTensor {
        HostTensor::new(shape, data).unwrap()
    }

    #[test]
    fn comparisons_broadcast_and_treat_nan_as_unordered() {
        let a = t(&[3], TensorData::F32(vec![1.0, f32::NAN, 3.0]));
        let b = t(&[], TensorData::F32(vec![1.0]));
        let expected = [
            (CompareOp::Equal, [true, false, false]),
            (CompareOp::Less, [false, false, false]),
            (CompareOp::LessOrEqual, [true, false, false]),
            (CompareOp::Greater, [false, false, true]),
            (CompareOp::GreaterOrEqual, [true, false, true]),
        ];
        for (op, want) in expected {
            let got = compare(op, &[Some(&a), Some(&b)]).unwrap();
            assert_eq!(got[0].data(), &TensorData::Bool(want.to_vec()), "{op:?}");
        }
        let ints = t(&[2, 1], TensorData::I64(vec![-1, 5]));
        let row = t(&[2], TensorData::I64(vec![0, 5]));
        let less = compare(CompareOp::Less, &[Some(&ints), Some(&row)]).unwrap();
        assert_eq!(less[0].shape(), &[2, 2]);
        assert_eq!(
            less[0].data(),
            &TensorData::Bool(vec![true, true, false, false])
        );
        assert!(compare(CompareOp::Less, &[Some(&a), Some(&ints)]).is_err());
    }

    #[test]
    fn where_selects_any_dtype() {
        let condition = t(&[2, 1], TensorData::Bool(vec![true, false]));
        let x = t(&[2], TensorData::I64(vec![1, 2]));
        let y = t(&[], TensorData::I64(vec![-9]));
        let chosen = select(&[Some(&condition), Some(&x), Some(&y)]).unwrap();
        assert_eq!(chosen[0].data(), &TensorData::I64(vec![1, 2, -9, -9]));
        let halves = t(&[1], TensorData::F16(vec![f16::ONE]));
        assert!(select(&[Some(&condition), Some(&x), Some(&halves)]).is_err());
        assert!(select(&[Some(&x), Some(&x), Some(&y)]).is_err());
    }

    #[test]
    fn not_negates_booleans_only() {
        let flags = t(&[2], TensorData::Bool(vec![true, false]));
        let negated = not(&[Some(&flags)]).unwrap();
        assert_eq!(negated[0].data(), &TensorData::Bool(vec![false, true]));
        let ints = t(&[1], TensorData::U8(vec![1]));
        assert!(not(&[Some(&ints)]).is_err());
    }

    #[test]
    fn cast_converts_every_pair() {
        let floats = t(&[4], TensorData::F32(vec![-1.7, 2.5, 0.0, 300.0]));
        let bytes = cast(DType::I8, &[Some(&floats)]).unwrap();
        assert_eq!(bytes[0].data(), &TensorData::I8(vec![-1, 2, 0, 127]));
        let flags = cast(DType::Bool, &[Some(&floats)]).unwrap();
        assert_eq!(
            flags[0].data(),
            &TensorData::Bool(vec![true, true, false, true])
        );
        let wide = t(&[2], TensorData::I64(vec![300, -1]));
        let narrow = cast(DType::U8, &[Some(&wide)]).unwrap();
        assert_eq!(narrow[0].data(), &TensorData::U8(vec![44, 255]));
        let halves = cast(DType::F16, &[Some(&floats)]).unwrap();
        let back = cast(DType::F32, &[Some(&halves[0])]).unwrap();
        assert_eq!(back[0].as_f32().unwrap()[1], 2.5);
        for to in DType::ALL {
            for from in [&floats, &wide, &flags[0], &halves[0]] {
                let cast_to = cast(to, &[Some(from)]).unwrap();
                assert_eq!((cast_to[0].dtype(), cast_to[0].shape()), (to, from.shape()));
            }
        }
    }
}
