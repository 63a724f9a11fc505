//! Output comparison with the semantics of the ONNX backend test runner: shapes and dtypes equal,
//! floats within numpy's `assert_allclose` (|got - expected| <= atol + rtol * |expected|, NaN equal
//! to NaN, infinities equal only to themselves), integers and booleans exact.

use kiln::tensor::{HostTensor, TensorData};

/// The runner's tolerances for one case.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
}

/// `onnx.backend.test` uses these for every node case and for any case whose folder has no
/// `data.json` that overrides them.
pub const DEFAULT_TOLERANCE: Tolerance = Tolerance {
    rtol: 1e-3,
    atol: 1e-7,
};

/// Compares output `name` with its expected value; the error names the first element that differs.
pub fn compare_output(
    name: &str,
    got: &HostTensor,
    expected: &HostTensor,
    tolerance: Tolerance,
) -> Result<(), String> {
    if got.shape() != expected.shape() {
        return Err(format!(
            "output '{name}': shape {:?}, expected {:?}",
            got.shape(),
            expected.shape()
        ));
    }
    if got.dtype() != expected.dtype() {
        return Err(format!(
            "output '{name}': dtype {}, expected {}",
            got.dtype(),
            expected.dtype()
        ));
    }
    let is_float = matches!(expected.data(), TensorData::F32(_) | TensorData::F16(_));
    let got_values = got.to_f64_vec();
    let expected_values = expected.to_f64_vec();
    let mismatch = got_values
        .iter()
        .zip(&expected_values)
        .position(|(&g, &e)| {
            if is_float {
                !close(g, e, tolerance)
            } else {
                g != e
            }
        });
    match mismatch {
        None => exact_integers(name, got, expected),
        Some(index) => Err(format!(
            "output '{name}' at flat index {index}: got {}, expected {}{}",
            got_values[index],
            expected_values[index],
            if is_float {
                format!(" (rtol {}, atol {})", tolerance.rtol, tolerance.atol)
            } else {
                String::new()
            }
        )),
    }
}

/// i64 values beyond 2^53 lose precision in f64; compare those exactly.
fn exact_integers(name: &str, got: &HostTensor, expected: &HostTensor) -> Result<(), String> {
    if let (TensorData::I64(g), TensorData::I64(e)) = (got.data(), expected.data()) {
        if let Some(index) = g.iter().zip(e).position(|(a, b)| a != b) {
            return Err(format!(
                "output '{name}' at flat index {index}: got {}, expected {}",
                g[index], e[index]
            ));
        }
    }
    Ok(())
}

/// numpy's `isclose(got, expected, rtol, atol, equal_nan=True)`.
fn close(got: f64, expected: f64, tolerance: Tolerance) -> bool {
    if got.is_nan() || expected.is_nan() {
        return got.is_nan() && expected.is_nan();
    }
    if got.is_infinite() || expected.is_infinite() {
        return got == expected;
    }
    (got - expected).abs() <= tolerance.atol + tolerance.rtol * expected.abs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln::tensor::TensorData;

    fn f32s(values: &[f32]) -> HostTensor {
        HostTensor::from_f32(&[values.len()], values.to_vec()).unwrap()
    }

    #[test]
    fn floats_follow_allclose() {
        let tolerance = DEFAULT_TOLERANCE;
        let expected = f32s(&[1000.0, f32::NAN, f32::INFINITY, 0.0]);
        assert!(compare_output("y", &expected, &expected, tolerance).is_ok());
        let near = f32s(&[1000.9, f32::NAN, f32::INFINITY, 0.0]);
        assert!(compare_output("y", &near, &expected, tolerance).is_ok());
        let far = f32s(&[1001.1, f32::NAN, f32::INFINITY, 0.0]);
        let error = compare_output("y", &far, &expected, tolerance).unwrap_err();
        assert!(error.contains("flat index 0"), "{error}");
        let nan_for_inf = f32s(&[1000.0, f32::NAN, f32::NAN, 0.0]);
        assert!(compare_output("y", &nan_for_inf, &expected, tolerance).is_err());
        let off_zero = f32s(&[1000.0, f32::NAN, f32::INFINITY, 1e-6]);
        assert!(compare_output("y", &off_zero, &expected, tolerance).is_err());
    }

    #[test]
    fn integers_are_exact_and_dtypes_and_shapes_must_match() {
        let big = HostTensor::from_i64(&[1], vec![(1 << 60) + 1]).unwrap();
        let bigger = HostTensor::from_i64(&[1], vec![(1 << 60) + 2]).unwrap();
        assert!(compare_output("y", &big, &bigger, DEFAULT_TOLERANCE).is_err());
        let as_i32 = HostTensor::new(&[1], TensorData::I32(vec![1])).unwrap();
        let as_i64 = HostTensor::from_i64(&[1], vec![1]).unwrap();
        assert!(compare_output("y", &as_i32, &as_i64, DEFAULT_TOLERANCE).is_err());
        let column = f32s(&[1.0]).reshaped(&[1, 1]).unwrap();
        assert!(compare_output("y", &column, &f32s(&[1.0]), DEFAULT_TOLERANCE).is_err());
    }
}
