//! Int8 quantization for W8A8 matmuls: weights per output channel ([`Q8Weights`]) and activations
//! per tensor ([`Q8Activations`]).
//!
//! # Layout contract (read by the GPU kernels)
//!
//! Both types hold a row-major matrix of `i8`, one row per output channel (weights, `N` rows) or
//! per activation row (`batch * M` rows), with the reduction axis `K` contiguous:
//! - `row_stride` is `cols` rounded up to a multiple of 4, so every row starts on a 4-byte
//!   boundary and a kernel can read it as `u32` words for `dot4I8Packed`;
//! - `data` holds `rows * row_stride` bytes; element `(row, col)` is `data[row * row_stride + col]`
//!   and the padding bytes `cols..row_stride` of every row are 0, so they add nothing to a dot
//!   product; [`Q8Weights::as_bytes`] and [`Q8Activations::as_bytes`] give these bytes, whose
//!   length is a multiple of 4;
//! - element values dequantize as `(q - zero_point) * scale` ([`crate::tensor::quant`]), with one
//!   `scales[row]` / `zero_points[row]` per weight row and one `scale` / `zero_point` for the whole
//!   activation tensor;
//! - `Q8Weights::row_sums[row]` is the i32 sum of the row's `cols` values. Expanding
//!   `sum_k (a_k - za) (w_k - zw)` needs `za * sum_k w_k`, which kernels read from here.
//!
//! Uint8 activations (ONNX's usual `QuantizeLinear` output) map onto [`Q8Activations`] exactly by
//! subtracting 128 from both the values and the zero point: `(q - 128) - (zp - 128) = q - zp`.
//! [`Q8Activations::from_u8`] does this.

use crate::error::{Error, Result};
use crate::tensor::quant::{
    check_finite, check_matrix_len, dequantize, min_max, minmax_params, quantize_i8,
};

/// How a Q8 scale and zero point are chosen from a min/max range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Q8Scheme {
    /// Zero point 0 and `scale = max(|min|, |max|) / 127`; level -128 is unused by calibration.
    Symmetric,
    /// The full range `[-128, 127]` with a zero point: `scale = (max - min) / 255`.
    Asymmetric,
}

/// Int8 weights quantized per output channel, laid out as the module documentation describes.
#[derive(Clone, Debug, PartialEq)]
pub struct Q8Weights {
    /// Output channels `N`.
    pub rows: usize,
    /// Reduction length `K`.
    pub cols: usize,
    /// Bytes per row: `cols` rounded up to a multiple of 4.
    pub row_stride: usize,
    /// `rows * row_stride` values, row-major with `K` contiguous; padding bytes are 0.
    pub data: Vec<i8>,
    /// One scale per row, finite and positive.
    pub scales: Vec<f32>,
    /// One zero point per row; all 0 for [`Q8Scheme::Symmetric`].
    pub zero_points: Vec<i8>,
    /// Per row, the sum over `k < cols` of `data[row, k]`.
    pub row_sums: Vec<i32>,
}

/// Int8 activations quantized with one scale and zero point for the whole tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Q8Activations {
    /// Rows: `batch * M`.
    pub rows: usize,
    /// Reduction length `K`.
    pub cols: usize,
    /// Bytes per row: `cols` rounded up to a multiple of 4.
    pub row_stride: usize,
    /// `rows * row_stride` values, row-major with `K` contiguous; padding bytes are 0.
    pub data: Vec<i8>,
    /// The tensor's scale, finite and positive.
    pub scale: f32,
    /// The tensor's zero point.
    pub zero_point: i8,
}

/// Copies a row-major `[rows, cols]` matrix into rows of `row_stride` bytes (the first return
/// value), zero-filling the padding.
fn pad_rows(op: &'static str, values: &[i8], rows: usize, cols: usize) -> Result<(usize, Vec<i8>)> {
    let row_stride = cols.div_ceil(4) * 4;
    let detail = format!("[{rows}, {cols}] padded to {row_stride} bytes per row overflows usize");
    let padded_len = rows.checked_mul(row_stride);
    let mut data = vec![0i8; padded_len.ok_or(Error::InvalidArgument { op, detail })?];
    let padded_rows = data.chunks_exact_mut(row_stride);
    for (padded_row, row_values) in padded_rows.zip(values.chunks_exact(cols)) {
        padded_row[..cols].copy_from_slice(row_values);
    }
    Ok((row_stride, data))
}

/// Rejects a scale that is not finite and positive.
fn check_scale(op: &'static str, scale: f32, what: &str) -> Result<()> {
    if scale.is_finite() && scale > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            op,
            detail: format!("{what} is {scale}; scales must be finite and positive"),
        })
    }
}

impl Q8Weights {
    /// Quantizes row-major `[rows, cols]` weights (`N x K`, like a PyTorch `Linear` weight or an
    /// ONNX `Gemm` B with `transB = 1`), each row with its own min/max scale and zero point.
    ///
    /// ```
    /// use kiln::tensor::{Q8Scheme, Q8Weights};
    /// let weights = Q8Weights::quantize(&[1.0, -0.5, 0.25, 0.0, 2.0, -2.0], 2, 3, Q8Scheme::Symmetric)?;
    /// assert_eq!((weights.row_stride, weights.value(0, 0), weights.value(1, 2)), (4, 127, -127));
    /// # Ok::<(), kiln::Error>(())
    /// ```
    pub fn quantize(weights: &[f32], rows: usize, cols: usize, scheme: Q8Scheme) -> Result<Self> {
        Self::quantize_rows("Q8Weights::quantize", weights, rows, cols, scheme)
    }

    /// Quantizes row-major `[k, n]` weights (an ONNX `MatMul` B, or `Gemm` B with `transB = 0`)
    /// by transposing them to `[n, k]` first; the result has `n` rows.
    pub fn quantize_kn(weights: &[f32], k: usize, n: usize, scheme: Q8Scheme) -> Result<Self> {
        let op = "Q8Weights::quantize_kn";
        check_matrix_len(op, weights.len(), k, n)?;
        let transposed: Vec<f32> = (0..n)
            .flat_map(|col| weights.iter().skip(col).step_by(n).copied())
            .collect();
        Self::quantize_rows(op, &transposed, n, k, scheme)
    }

    /// Quantizes `[rows, cols]` weights, reporting errors as `op`.
    fn quantize_rows(
        op: &'static str,
        weights: &[f32],
        rows: usize,
        cols: usize,
        scheme: Q8Scheme,
    ) -> Result<Self> {
        check_matrix_len(op, weights.len(), rows, cols)?;
        check_finite(op, weights, cols)?;
        let mut values = Vec::with_capacity(weights.len());
        let mut scales = Vec::with_capacity(rows);
        let mut zero_points = Vec::with_capacity(rows);
        for (row, row_weights) in weights.chunks_exact(cols).enumerate() {
            let (min, max) = min_max(row_weights);
            let params = minmax_params(min, max, -128, 127, scheme == Q8Scheme::Symmetric)
                .map_err(|error| Error::InvalidArgument {
                    op,
                    detail: format!("row {row}: {error}"),
                })?;
            let zero_point = params.zero_point as i8;
            let quantize = |&w: &f32| quantize_i8(w, params.scale, zero_point);
            values.extend(row_weights.iter().map(quantize));
            scales.push(params.scale);
            zero_points.push(zero_point);
        }
        Self::from_parts(rows, cols, &values, scales, zero_points)
    }

    /// Builds weights from already-quantized row-major `[rows, cols]` values (unpadded) with one
    /// scale and zero point per row; pads the rows and computes `row_sums`.
    pub fn from_parts(
        rows: usize,
        cols: usize,
        values: &[i8],
        scales: Vec<f32>,
        zero_points: Vec<i8>,
    ) -> Result<Self> {
        let op = "Q8Weights::from_parts";
        check_matrix_len(op, values.len(), rows, cols)?;
        if scales.len() != rows || zero_points.len() != rows {
            let (scale_count, zero_point_count) = (scales.len(), zero_points.len());
            let detail = format!(
                "{rows} rows need {rows} scales and zero points, got {scale_count} and \
                 {zero_point_count}"
            );
            return Err(Error::ShapeMismatch { op, detail });
        }
        for (row, &scale) in scales.iter().enumerate() {
            check_scale(op, scale, &format!("scale of row {row}"))?;
        }
        let (row_stride, data) = pad_rows(op, values, rows, cols)?;
        let row_sums = values
            .chunks_exact(cols)
            .map(|row_values| row_values.iter().map(|&q| i32::from(q)).sum())
            .collect();
        Ok(Self {
            rows,
            cols,
            row_stride,
            data,
            scales,
            zero_points,
            row_sums,
        })
    }

    /// The quantized value at `(row, col)`.
    ///
    /// # Panics
    /// If `row >= rows` or `col >= cols`.
    pub fn value(&self, row: usize, col: usize) -> i8 {
        assert!(
            row < self.rows && col < self.cols,
            "({row}, {col}) is out of bounds"
        );
        self.data[row * self.row_stride + col]
    }

    /// The dequantized weights, row-major `[rows, cols]` without padding.
    pub fn dequantize(&self) -> Vec<f32> {
        let mut values = Vec::with_capacity(self.rows * self.cols);
        for (row, padded_row) in self.data.chunks_exact(self.row_stride).enumerate() {
            let (scale, zero_point) = (self.scales[row], self.zero_points[row]);
            let dequantize_one = |&q: &i8| dequantize(q.into(), scale, zero_point.into());
            values.extend(padded_row[..self.cols].iter().map(dequantize_one));
        }
        values
    }

    /// The padded data as bytes: `rows * row_stride` of them, a multiple of 4.
    pub fn as_bytes(&self) -> &[u8] {
        bytemuck::cast_slice(&self.data)
    }
}

impl Q8Activations {
    /// Quantizes row-major `[rows, cols]` activations with the given scale and zero point
    /// ([`quantize_i8`] per element, so NaN becomes the zero point and infinities saturate).
    pub fn quantize(
        values: &[f32],
        rows: usize,
        cols: usize,
        scale: f32,
        zero_point: i8,
    ) -> Result<Self> {
        let op = "Q8Activations::quantize";
        check_matrix_len(op, values.len(), rows, cols)?;
        check_scale(op, scale, "scale")?;
        let quantize = |&x: &f32| quantize_i8(x, scale, zero_point);
        let quantized: Vec<i8> = values.iter().map(quantize).collect();
        Self::from_parts(rows, cols, &quantized, scale, zero_point)
    }

    /// Quantizes activations with a scale and zero point picked from their own min/max by
    /// [`minmax_params`]: [`Q8Scheme::Asymmetric`] uses the full int8 range with a zero point,
    /// [`Q8Scheme::Symmetric`] zero point 0. Non-finite values are an error. An all-zero tensor
    /// gets scale 1.0.
    pub fn calibrate(values: &[f32], rows: usize, cols: usize, scheme: Q8Scheme) -> Result<Self> {
        let op = "Q8Activations::calibrate";
        check_matrix_len(op, values.len(), rows, cols)?;
        check_finite(op, values, cols)?;
        let (min, max) = min_max(values);
        let params = minmax_params(min, max, -128, 127, scheme == Q8Scheme::Symmetric)?;
        Self::quantize(values, rows, cols, params.scale, params.zero_point as i8)
    }

    /// Builds activations from already-quantized row-major `[rows, cols]` values (unpadded).
    pub fn from_parts(
        rows: usize,
        cols: usize,
        values: &[i8],
        scale: f32,
        zero_point: i8,
    ) -> Result<Self> {
        let op = "Q8Activations::from_parts";
        check_matrix_len(op, values.len(), rows, cols)?;
        check_scale(op, scale, "scale")?;
        let (row_stride, data) = pad_rows(op, values, rows, cols)?;
        Ok(Self {
            rows,
            cols,
            row_stride,
            data,
            scale,
            zero_point,
        })
    }

    /// Builds activations from uint8 values and zero point by subtracting 128 from both, which
    /// leaves every dequantized value unchanged.
    pub fn from_u8(
        values: &[u8],
        rows: usize,
        cols: usize,
        scale: f32,
        zero_point: u8,
    ) -> Result<Self> {
        let op = "Q8Activations::from_u8";
        check_matrix_len(op, values.len(), rows, cols)?;
        check_scale(op, scale, "scale")?;
        let shifted: Vec<i8> = values.iter().map(|&q| q.wrapping_sub(128) as i8).collect();
        let shifted_zero_point = zero_point.wrapping_sub(128) as i8;
        Self::from_parts(rows, cols, &shifted, scale, shifted_zero_point)
    }

    /// The quantized value at `(row, col)`.
    ///
    /// # Panics
    /// If `row >= rows` or `col >= cols`.
    pub fn value(&self, row: usize, col: usize) -> i8 {
        assert!(
            row < self.rows && col < self.cols,
            "({row}, {col}) is out of bounds"
        );
        self.data[row * self.row_stride + col]
    }

    /// The dequantized activations, row-major `[rows, cols]` without padding.
    pub fn dequantize(&self) -> Vec<f32> {
        self.data
            .chunks_exact(self.row_stride)
            .flat_map(|row| row[..self.cols].iter())
            .map(|&q| dequantize(q.into(), self.scale, self.zero_point.into()))
            .collect()
    }

    /// The padded data as bytes: `rows * row_stride` of them, a multiple of 4.
    pub fn as_bytes(&self) -> &[u8] {
        bytemuck::cast_slice(&self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::quant::test_values;
    use Q8Scheme::{Asymmetric, Symmetric};

    /// Asserts `|back - x| <= scale / 2`, plus slack for the two f32 roundings (`x / scale` and
    /// the dequantizing product): a few ulps of the value.
    fn assert_within_half_step(x: f32, back: f32, scale: f32) {
        let tolerance = scale / 2.0 + 4.0 * f32::EPSILON * x.abs().max(scale);
        let error = (back - x).abs();
        assert!(error <= tolerance, "{x} -> {back} with scale {scale}");
    }

    #[test]
    fn rows_are_padded_to_four_bytes() {
        for cols in [1, 3, 4, 5, 17] {
            let values = test_values(3 * cols, cols as u64, 2.0);
            let weights = Q8Weights::quantize(&values, 3, cols, Asymmetric).unwrap();
            let activations = Q8Activations::calibrate(&values, 3, cols, Asymmetric).unwrap();
            for (data, row_stride) in [
                (&weights.data, weights.row_stride),
                (&activations.data, activations.row_stride),
            ] {
                assert_eq!(row_stride, cols.div_ceil(4) * 4, "cols {cols}");
                assert_eq!(data.len(), 3 * row_stride, "cols {cols}");
                let padding_is_zero = |row: &[i8]| row[cols..].iter().all(|&q| q == 0);
                let mut padded_rows = data.chunks_exact(row_stride);
                assert!(padded_rows.all(padding_is_zero), "cols {cols}");
            }
            assert_eq!(weights.as_bytes().len(), 3 * weights.row_stride);
            assert_eq!(activations.as_bytes().len(), 3 * activations.row_stride);
        }
    }

    #[test]
    fn round_trip_is_within_half_a_step() {
        let (rows, cols) = (5, 37);
        let mut values = test_values(rows * cols, 11, 3.0);
        for x in &mut values[cols..2 * cols] {
            *x = x.abs() + 0.5; // an all-positive row
        }
        for scheme in [Symmetric, Asymmetric] {
            let weights = Q8Weights::quantize(&values, rows, cols, scheme).unwrap();
            for (index, (&x, back)) in values.iter().zip(weights.dequantize()).enumerate() {
                assert_within_half_step(x, back, weights.scales[index / cols]);
            }
            let activations = Q8Activations::calibrate(&values, rows, cols, scheme).unwrap();
            for (&x, back) in values.iter().zip(activations.dequantize()) {
                assert_within_half_step(x, back, activations.scale);
            }
        }
        let symmetric = Q8Weights::quantize(&values, rows, cols, Symmetric).unwrap();
        assert_eq!(symmetric.zero_points, vec![0; rows]);
    }

    #[test]
    fn saturates_and_sums_rows() {
        let values = [100.0, -100.0, 1.0, f32::NAN];
        let activations = Q8Activations::quantize(&values, 1, 4, 0.5, 3).unwrap();
        assert_eq!(activations.data[..4], [127, -128, 5, 3]);
        let weights =
            Q8Weights::from_parts(2, 3, &[127, 127, 127, -128, 5, 0], vec![1.0; 2], vec![0; 2]);
        assert_eq!(weights.unwrap().row_sums, vec![381, -123]);
        let quantized = Q8Weights::quantize(&test_values(36, 3, 1.0), 4, 9, Asymmetric).unwrap();
        for row in 0..4 {
            let sum: i32 = (0..9).map(|col| i32::from(quantized.value(row, col))).sum();
            assert_eq!(quantized.row_sums[row], sum);
        }
    }

    #[test]
    fn quantize_kn_transposes() {
        let (k, n) = (6, 3);
        let kn = test_values(k * n, 5, 1.0);
        let nk: Vec<f32> = (0..n * k)
            .map(|index| kn[index % k * n + index / k])
            .collect();
        let from_kn = Q8Weights::quantize_kn(&kn, k, n, Symmetric).unwrap();
        assert_eq!(from_kn, Q8Weights::quantize(&nk, n, k, Symmetric).unwrap());
    }

    #[test]
    fn rejects_bad_inputs() {
        let shape = |result| matches!(result, Err(Error::ShapeMismatch { .. }));
        let invalid = |result| matches!(result, Err(Error::InvalidArgument { .. }));
        let build = |values: &[i8], scales: &[f32], zero_points: &[i8]| {
            let parts = (scales.to_vec(), zero_points.to_vec());
            Q8Weights::from_parts(2, 2, values, parts.0, parts.1)
        };
        assert!(shape(build(&[0; 3], &[1.0; 2], &[0; 2])));
        assert!(shape(build(&[0; 4], &[1.0; 1], &[0; 2])));
        assert!(shape(build(&[0; 4], &[1.0; 2], &[0; 3])));
        for scale in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(invalid(build(&[0; 4], &[1.0, scale], &[0; 2])));
        }
        assert!(invalid(Q8Weights::from_parts(0, 2, &[], vec![], vec![])));
        let nan_weight = Q8Weights::quantize(&[0.0, 1.0, f32::NAN, 2.0], 2, 2, Symmetric);
        assert!(nan_weight.is_err_and(|error| error.to_string().contains("row 1")));
        assert!(Q8Activations::from_parts(1, 2, &[0; 2], 0.0, 0).is_err());
        assert!(Q8Activations::quantize(&[0.0; 3], 1, 2, 1.0, 0).is_err());
        assert!(Q8Activations::calibrate(&[0.0, f32::INFINITY], 1, 2, Symmetric).is_err());
    }

    #[test]
    fn calibrate_all_zero_tensor() {
        for scheme in [Symmetric, Asymmetric] {
            let activations = Q8Activations::calibrate(&[0.0; 6], 2, 3, scheme).unwrap();
            assert_eq!(activations.scale, 1.0);
            let zero_point = activations.zero_point;
            assert!((0..6).all(|index| activations.value(index / 3, index % 3) == zero_point));
            assert!(activations.dequantize().iter().all(|&x| x == 0.0));
        }
    }

    #[test]
    fn from_u8_keeps_dequantized_values() {
        let values: Vec<u8> = (0..=255).collect();
        let (scale, zero_point) = (0.037, 131);
        let activations = Q8Activations::from_u8(&values, 16, 16, scale, zero_point).unwrap();
        let dequantize_u8 = |&q: &u8| dequantize(q.into(), scale, zero_point.into());
        let expected: Vec<f32> = values.iter().map(dequantize_u8).collect();
        assert_eq!(activations.dequantize(), expected);
        assert_eq!((activations.value(0, 0), activations.zero_point), (-128, 3));
    }
}
