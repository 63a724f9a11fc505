//! The references against the float path they replace (`DQ → Add/Mul → Q`, `Q(DQ(x))`), on zero
//! points 0/128/255 and −128/0/127, scales 1e-6…1e2, saturation and broadcast shapes.

use super::*;
use crate::check::SeededRng;
use crate::tensor::quant::{dequantize, quantize_i8, quantize_u8};

/// The zero points each dtype is tested with: its ends and middle.
fn zero_points(dtype: DType) -> [i32; 3] {
    if dtype == DType::I8 {
        [-128, 0, 127]
    } else {
        [0, 128, 255]
    }
}

/// The float path's Q: `saturate(round(x / scale) + zero_point)`.
fn float_quantize(x: f32, quant: &TensorQuantization) -> i32 {
    if quant.dtype == DType::I8 {
        i32::from(quantize_i8(x, quant.scale, quant.zero_point as i8))
    } else {
        i32::from(quantize_u8(x, quant.scale, quant.zero_point as u8))
    }
}

/// Whether the float path's quotient `x / y_scale` (before rounding) lies within `margin` of a
/// .5 boundary, where the bound of the module doc allows one step of difference.
fn near_boundary(x: f32, y_scale: f32, margin: f32) -> bool {
    let quotient = x / y_scale;
    (quotient - quotient.floor() - 0.5).abs() <= margin * quotient.abs().max(1.0)
}

/// Every value of `dtype`, in order.
fn all_values(dtype: DType) -> Vec<i32> {
    let (low, high) = quantized_range("test", dtype).unwrap();
    (low..=high).collect()
}

fn quant(scale: f32, zero_point: i32, dtype: DType) -> TensorQuantization {
    TensorQuantization {
        scale,
        zero_point,
        dtype,
    }
}

/// Checks `op` over every value of `a` against a few values of `b`, for every zero point of both
/// dtypes, against the float path: equal, or one step apart where the float quotient is within
/// the module doc's `ε` (relative 2⁻¹⁵, generous for Add's 16-bit multipliers) of a boundary.
fn check_against_float_path(op: QLinearBinaryOp, scales: [f32; 3], seed: u64) {
    let mut rng = SeededRng::new(seed);
    for dtype in [DType::I8, DType::U8] {
        let a_values = all_values(dtype);
        let b_values: Vec<i32> = (0..7)
            .map(|_| rng.int_in(a_values[0], a_values[255]))
            .collect();
        for (a_zero, y_zero) in zero_points(dtype).into_iter().zip(zero_points(dtype)) {
            let a_quant = quant(scales[0], a_zero, dtype);
            let b_quant = quant(scales[1], zero_points(dtype)[1], dtype);
            let y_quant = quant(scales[2], y_zero, dtype);
            let a = QuantizedOperand {
                values: &a_values,
                shape: &[256, 1],
                quantization: a_quant,
            };
            let b = QuantizedOperand {
                values: &b_values,
                shape: &[1, 7],
                quantization: b_quant,
            };
            let (got, shape) = reference_qlinear_binary(op, &a, &b, &y_quant).unwrap();
            assert_eq!(shape, [256, 7]);
            for (index, &value) in got.iter().enumerate() {
                let (a_q, b_q) = (a_values[index / 7], b_values[index % 7]);
                let a_f = dequantize(a_q, a_quant.scale, a_zero);
                let b_f = dequantize(b_q, b_quant.scale, b_quant.zero_point);
                let float = match op {
                    QLinearBinaryOp::Add => a_f + b_f,
                    QLinearBinaryOp::Mul => a_f * b_f,
                };
                let expected = float_quantize(float, &y_quant);
                let allowed = near_boundary(float, y_quant.scale, 1.0 / 32_768.0);
                assert!(
                    value == expected || (allowed && (value - expected).abs() == 1),
                    "{op:?} {dtype} a={a_q} b={b_q} zero points {a_zero}/{y_zero}: \
                     {value} vs float path {expected}"
                );
            }
        }
    }
}

#[test]
fn add_is_the_float_path_within_one_step_near_boundaries() {
    for (seed, scales) in [[0.05, 0.03, 0.07], [1e-6, 2e-6, 3e-6], [1e2, 50.0, 1e2]]
        .into_iter()
        .enumerate()
    {
        check_against_float_path(QLinearBinaryOp::Add, scales, seed as u64);
    }
}

#[test]
fn mul_is_the_float_path_within_one_step_near_boundaries() {
    for (seed, scales) in [[0.05, 0.03, 0.07], [1e-3, 1e-3, 1e-6], [1e2, 1e-2, 1e2]]
        .into_iter()
        .enumerate()
    {
        check_against_float_path(QLinearBinaryOp::Mul, scales, 10 + seed as u64);
    }
}

#[test]
fn large_ratios_saturate_and_tiny_ones_give_the_zero_point() {
    let values = all_values(DType::I8);
    let x = |scale| QuantizedOperand {
        values: &values,
        shape: &[256],
        quantization: quant(scale, 0, DType::I8),
    };
    let y = quant(1e-6, 3, DType::I8);
    let saturated = reference_requantize(&x(1e2), &y).unwrap();
    for (&input, &output) in values.iter().zip(&saturated) {
        let expected = match input.cmp(&0) {
            std::cmp::Ordering::Greater => 127,
            std::cmp::Ordering::Less => -128,
            std::cmp::Ordering::Equal => 3,
        };
        assert_eq!(output, expected);
    }
    let vanishing = reference_requantize(&x(1e-6), &quant(1e2, 3, DType::I8)).unwrap();
    assert!(vanishing.iter().all(|&output| output == 3));
}

#[test]
fn requantizing_to_the_same_quantization_is_a_copy() {
    for dtype in [DType::I8, DType::U8] {
        let values = all_values(dtype);
        for zero in zero_points(dtype) {
            for scale in [1e-6, 0.37, 1e2] {
                let same = quant(scale, zero, dtype);
                let x = QuantizedOperand {
                    values: &values,
                    shape: &[256],
                    quantization: same,
                };
                assert_eq!(reference_requantize(&x, &same).unwrap(), values);
            }
        }
    }
}

#[test]
fn broadcasting_matches_explicitly_expanded_operands() {
    let mut rng = SeededRng::new(7);
    let (a_shape, b_shape, out) = ([3, 1, 5], [2, 1], [3, 2, 5]);
    let a_values = rng.int_vec(15, 0, 255);
    let b_values = rng.int_vec(2, 0, 255);
    let (a_quant, b_quant, y_quant) = (
        quant(0.02, 128, DType::U8),
        quant(0.05, 255, DType::U8),
        quant(0.03, 0, DType::U8),
    );
    let operand = |values, shape, quantization| QuantizedOperand {
        values,
        shape,
        quantization,
    };
    let expanded_a: Vec<i32> = (0..30).map(|i| a_values[(i / 10) * 5 + i % 5]).collect();
    let expanded_b: Vec<i32> = (0..30).map(|i| b_values[(i / 5) % 2]).collect();
    for op in [QLinearBinaryOp::Add, QLinearBinaryOp::Mul] {
        let (broadcast, shape) = reference_qlinear_binary(
            op,
            &operand(&a_values, &a_shape, a_quant),
            &operand(&b_values, &b_shape, b_quant),
            &y_quant,
        )
        .unwrap();
        let (expanded, _) = reference_qlinear_binary(
            op,
            &operand(&expanded_a, &out, a_quant),
            &operand(&expanded_b, &out, b_quant),
            &y_quant,
        )
        .unwrap();
        assert_eq!((shape.as_slice(), &broadcast), (&out[..], &expanded));
    }
}

#[test]
fn add_multipliers_have_sixteen_significant_bits() {
    for ratio in [1e-6f32, 0.1, 0.7, 1.0, 3.3, 99.9] {
        let requant = Requantization::binary(QLinearBinaryOp::Add, ratio, 1.0, 1.0);
        let multiplier = f64::from(requant.a_multiplier);
        let exponent = multiplier.log2().floor() as i32;
        let significand = multiplier / 2f64.powi(exponent - (ADD_MULTIPLIER_BITS - 1));
        assert_eq!(significand, significand.round(), "{ratio}");
        let relative = (multiplier - f64::from(ratio)).abs() / f64::from(ratio);
        assert!(
            relative <= 2f64.powi(-ADD_MULTIPLIER_BITS),
            "{ratio}: {relative}"
        );
    }
}

#[test]
fn lookup_indexes_from_the_dtype_minimum_and_rejects_bad_tables() {
    let table: Vec<i32> = (0..256).map(|i| 255 - i).collect();
    let x = [-128, -1, 0, 127];
    assert_eq!(
        reference_lookup_table(&x, DType::I8, &table).unwrap(),
        [255, 128, 127, 0]
    );
    assert_eq!(
        reference_lookup_table(&[0, 255], DType::U8, &table).unwrap(),
        [255, 0]
    );
    assert!(reference_lookup_table(&x, DType::I8, &table[..255]).is_err());
    assert!(reference_lookup_table(&[300], DType::U8, &table).is_err());
    assert!(reference_lookup_table(&[1], DType::F32, &table).is_err());
}

#[test]
fn bad_scales_and_zero_points_are_errors() {
    let values = [1, 2];
    for bad in [
        quant(0.0, 0, DType::I8),
        quant(-1.0, 0, DType::I8),
        quant(f32::NAN, 0, DType::I8),
        quant(1.0, 128, DType::I8),
        quant(1.0, -1, DType::U8),
        quant(1.0, 0, DType::F32),
    ] {
        let x = QuantizedOperand {
            values: &values,
            shape: &[2],
            quantization: bad,
        };
        assert!(reference_requantize(&x, &quant(1.0, 0, DType::I8)).is_err());
    }
}
