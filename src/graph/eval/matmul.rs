//! Matrix products: MatMul with numpy semantics (1-D operands, broadcast batch axes) through
//! [`reference_matmul`] one matrix pair at a time, Gemm through [`reference_gemm`], both with
//! their fused activation, and MatMulInteger through [`reference_matmul_integer`], the integer
//! reference the int8 kernels are tested against, one matrix pair at a time.

use crate::error::Result;
use crate::graph::eval::args::{
    expect_arity, expect_same_dtype, float_values, invalid, optional, required, shape_error,
    unsupported, Inputs,
};
use crate::graph::eval::broadcast::broadcast_offsets;
use crate::graph::eval::element::tensor_from_f64;
use crate::ops::gemm::{reference_gemm, GemmOptions};
use crate::ops::matmul::int8::{reference_matmul_integer, IntegerProduct};
use crate::ops::matmul::{reference_matmul, MatmulDims};
use crate::ops::Activation;
use crate::tensor::{DType, HostTensor, TensorData};

/// A numpy matmul of `[..., M, K]` by `[..., K, N]`: the matrix sizes, the output shape and, per
/// output matrix, the indices of the A and B matrices it multiplies.
struct BatchedProduct {
    m: usize,
    k: usize,
    n: usize,
    shape: Vec<usize>,
    pairs: Vec<(usize, usize)>,
}

impl BatchedProduct {
    /// A 1-D A is one row and a 1-D B one column, each dropped from the output shape.
    fn new(a: &[usize], b: &[usize]) -> Result<Self> {
        let (a_batch, m, k) = match a {
            [] => return Err(shape_error("MatMul operands must have rank ≥ 1")),
            [k] => (&a[..0], 1, *k),
            [batch @ .., m, k] => (batch, *m, *k),
        };
        let (b_batch, b_k, n) = match b {
            [] => return Err(shape_error("MatMul operands must have rank ≥ 1")),
            [k] => (&b[..0], *k, 1),
            [batch @ .., k, n] => (batch, *k, *n),
        };
        if k != b_k {
            return Err(shape_error(format!(
                "A {a:?} has K = {k} but B {b:?} has K = {b_k}"
            )));
        }
        let (mut shape, offsets) = broadcast_offsets(&[a_batch, b_batch])?;
        if a.len() > 1 {
            shape.push(m);
        }
        if b.len() > 1 {
            shape.push(n);
        }
        crate::graph::eval::args::output_len(&shape)?;
        let pairs = offsets[0].iter().copied().zip(offsets[1].iter().copied());
        Ok(BatchedProduct {
            m,
            k,
            n,
            shape,
            pairs: pairs.collect(),
        })
    }
}

/// MatMul `(a, b)` of f32 or f16 tensors, then `activation`.
pub(crate) fn matmul(activation: Activation, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 2)?;
    let (a, b) = (required(inputs, 0)?, required(inputs, 1)?);
    expect_same_dtype(a, b, "B")?;
    let product = BatchedProduct::new(a.shape(), b.shape())?;
    let (a_values, b_values) = (float_values(a, "A")?, float_values(b, "B")?);
    let (m, k, n) = (product.m, product.k, product.n);
    let dims = MatmulDims {
        batch: 1,
        m,
        n,
        k,
        b_batched: false,
        b_transposed: false,
    };
    let mut output = Vec::with_capacity(product.pairs.len() * m * n);
    for &(a_index, b_index) in &product.pairs {
        let a_matrix = &a_values[a_index * m * k..][..m * k];
        let b_matrix = &b_values[b_index * k * n..][..k * n];
        let reference = reference_matmul(a_matrix, b_matrix, &dims, None, activation);
        output.extend(reference.output);
    }
    Ok(vec![tensor_from_f64(a.dtype(), &product.shape, output)?])
}

/// Gemm `(a, b, c?)`: `alpha·op(a)·op(b) + beta·c` for 2-D f32 or f16 operands, then
/// `activation`.
pub(crate) fn gemm(
    options: &GemmOptions,
    activation: Activation,
    inputs: Inputs,
) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 3)?;
    let (a, b) = (required(inputs, 0)?, required(inputs, 1)?);
    expect_same_dtype(a, b, "B")?;
    let (&[a0, a1], &[b0, b1]) = (a.shape(), b.shape()) else {
        return Err(shape_error(format!(
            "Gemm takes 2-D A and B, got {:?} and {:?}",
            a.shape(),
            b.shape()
        )));
    };
    let m = if options.trans_a { a1 } else { a0 };
    let n = if options.trans_b { b0 } else { b1 };
    let c = optional(inputs, 2);
    let c_values = c
        .map(|c| {
            expect_same_dtype(a, c, "C")?;
            float_values(c, "C")
        })
        .transpose()?;
    let c_operand = c
        .zip(c_values.as_deref())
        .map(|(c, values)| (values, c.shape()));
    let (a_values, b_values) = (float_values(a, "A")?, float_values(b, "B")?);
    let reference = reference_gemm(
        &a_values,
        a.shape(),
        &b_values,
        b.shape(),
        c_operand,
        options,
    )?;
    let output = reference
        .output
        .into_iter()
        .map(|v| activation.reference(v));
    Ok(vec![tensor_from_f64(a.dtype(), &[m, n], output)?])
}

/// MatMulInteger `(a, b, a_zero_point?, b_zero_point?)` of i8 or u8 tensors: the exact i32
/// `Σ (a − a_zp[row])·(b − b_zp[col])`, zero points scalar or one per row of A / column of B.
pub(crate) fn matmul_integer(inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 2, 4)?;
    let (a, b) = (required(inputs, 0)?, required(inputs, 1)?);
    let bytes = |t: &HostTensor, what: &str| match t.dtype() {
        DType::I8 | DType::U8 => t.to_i64_vec(""),
        other => Err(unsupported(format!(
            "{what} is {other}; MatMulInteger takes i8 or u8"
        ))),
    };
    let (a_values, b_values) = (bytes(a, "A")?, bytes(b, "B")?);
    let product = BatchedProduct::new(a.shape(), b.shape())?;
    let (m, k, n) = (product.m, product.k, product.n);
    let zero_points = |index: usize, what: &str, expected: usize| -> Result<Vec<i64>> {
        let Some(zero_point) = optional(inputs, index) else {
            return Ok(vec![0; expected]);
        };
        expect_same_dtype(if index == 2 { a } else { b }, zero_point, what)?;
        match (zero_point.len(), zero_point.shape().len()) {
            (1, _) => Ok(vec![zero_point.to_i64_vec("")?[0]; expected]),
            (len, 1) if len == expected => zero_point.to_i64_vec(""),
            _ => Err(invalid(format!(
                "{what} must be a scalar or hold {expected} values, got shape {:?}",
                zero_point.shape()
            ))),
        }
    };
    let a_zero = zero_points(2, "a_zero_point", m)?;
    let b_zero = zero_points(3, "b_zero_point", n)?;
    let mut output = Vec::with_capacity(product.pairs.len() * m * n);
    for &(a_index, b_index) in &product.pairs {
        let matrices = IntegerProduct {
            a: &a_values[a_index * m * k..][..m * k],
            b: &b_values[b_index * k * n..][..k * n],
            dims: [m, k, n],
            a_zero_points: &a_zero,
            b_zero_points: &b_zero,
        };
        output.extend(
            reference_matmul_integer(&matrices)
                .into_iter()
                .map(|sum| sum as i32),
        );
    }
    Ok(vec![HostTensor::new(
        &product.shape,
        TensorData::I32(output),
    )?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

    fn t(shape: &[usize], data: TensorData) -> HostTensor {
        HostTensor::new(shape, data).unwrap()
    }

    fn f32s(shape: &[usize], values: &[f32]) -> HostTensor {
        HostTensor::from_f32(shape, values.to_vec()).unwrap()
    }

    #[test]
    fn matmul_broadcasts_batches_and_vectors() {
        // Two A matrices [[1, 2]] and [[3, 4]] times one B [[1, 0], [0, 1]] → A itself.
        let a = f32s(&[2, 1, 2], &[1.0, 2.0, 3.0, 4.0]);
        let b = f32s(&[2, 2], &[1.0, 0.0, 0.0, 1.0]);
        let y = matmul(Activation::Identity, &[Some(&a), Some(&b)]).unwrap();
        assert_eq!(y[0].shape(), &[2, 1, 2]);
        assert_eq!(y[0].as_f32().unwrap(), &[1.0, 2.0, 3.0, 4.0]);
        let v = f32s(&[2], &[1.0, -1.0]);
        let dot = matmul(Activation::Identity, &[Some(&v), Some(&v)]).unwrap();
        assert_eq!(
            (dot[0].shape(), dot[0].as_f32().unwrap()),
            (&[][..], &[2.0][..])
        );
        let column = matmul(Activation::Relu, &[Some(&a), Some(&v)]).unwrap();
        assert_eq!(column[0].shape(), &[2, 1]);
        assert_eq!(column[0].as_f32().unwrap(), &[0.0, 0.0]);
        let empty = f32s(&[0, 2], &[]);
        let none = matmul(Activation::Identity, &[Some(&empty), Some(&b)]).unwrap();
        assert_eq!(none[0].shape(), &[0, 2]);
        assert!(matmul(
            Activation::Identity,
            &[Some(&b), Some(&f32s(&[3], &[0.0; 3]))]
        )
        .is_err());
        let halves = t(&[2], TensorData::F16(vec![f16::ONE; 2]));
        let half_dot = matmul(Activation::Identity, &[Some(&halves), Some(&halves)]).unwrap();
        assert_eq!(
            half_dot[0].data(),
            &TensorData::F16(vec![f16::from_f32(2.0)])
        );
    }

    #[test]
    fn gemm_transposes_scales_and_broadcasts_c() {
        let a = f32s(&[2, 1], &[1.0, 2.0]);
        let b = f32s(&[2, 1], &[3.0, 4.0]);
        let c = f32s(&[2], &[100.0, 200.0]);
        let options = GemmOptions {
            alpha: 2.0,
            beta: 0.5,
            trans_a: true,
            trans_b: false,
        };
        // aᵀ·b = [1·3 + 2·4] = [11]: does not fit C [2] → error; with trans_b, a·bᵀ is 2×2.
        assert!(gemm(
            &options,
            Activation::Identity,
            &[Some(&a), Some(&b), Some(&c)]
        )
        .is_err());
        let outer = GemmOptions {
            trans_a: false,
            trans_b: true,
            ..options
        };
        let y = gemm(
            &outer,
            Activation::Identity,
            &[Some(&a), Some(&b), Some(&c)],
        )
        .unwrap();
        assert_eq!(y[0].shape(), &[2, 2]);
        assert_eq!(y[0].as_f32().unwrap(), &[56.0, 108.0, 62.0, 116.0]);
        assert!(gemm(&outer, Activation::Identity, &[Some(&c), Some(&b)]).is_err());
    }

    #[test]
    fn matmul_integer_subtracts_zero_points() {
        let a = t(&[2, 2], TensorData::U8(vec![1, 2, 3, 4]));
        let b = t(&[2, 1], TensorData::U8(vec![5, 6]));
        let a_zero = t(&[2], TensorData::U8(vec![1, 0]));
        let b_zero = t(&[], TensorData::U8(vec![5]));
        let y = matmul_integer(&[Some(&a), Some(&b), Some(&a_zero), Some(&b_zero)]).unwrap();
        // Rows [0, 1] and [3, 4] times the column [0, 1].
        assert_eq!(y[0].data(), &TensorData::I32(vec![1, 4]));
        let signed = t(&[1, 1], TensorData::I8(vec![-128]));
        let y = matmul_integer(&[Some(&signed), Some(&signed)]).unwrap();
        assert_eq!(y[0].data(), &TensorData::I32(vec![16384]));
        assert!(matmul_integer(&[Some(&a), Some(&b), Some(&b_zero), Some(&a_zero)]).is_err());
        let floats = f32s(&[1, 1], &[1.0]);
        assert!(matmul_integer(&[Some(&floats), Some(&floats)]).is_err());
    }
}
