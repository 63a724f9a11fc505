//! Int4 weight-only quantization, group-wise along the reduction axis `K`, with f16 scales
//! ([`Q4Weights`]).
//!
//! # Layout contract (read by the GPU kernels)
//!
//! The weights are a row-major `[N, K]` matrix (`rows = N` output channels, `cols = K`), cut along
//! `K` into groups of `G` = [`Q4GroupSize::elements`] (32, 64 or 128) elements; each row has
//! `groups_per_row = ceil(K / G)` groups and `words_per_row = groups_per_row * G / 8` words.
//! - `packed: Vec<u32>` holds `rows * words_per_row` words. Element `(n, k)` is the 4-bit nibble
//!   `k % 8` of word `n * words_per_row + k / 8`, low nibble first (bits `4 * (k % 8)..+4`).
//!   The tail of each row's last group (`k` in `K..groups_per_row * G`) holds that group's zero
//!   point, so it dequantizes to exactly 0.
//! - `scales: Vec<f16>` and `zero_points: Vec<u8>` hold one entry per group, at index
//!   `n * groups_per_row + g`. Zero points are in `0..=15` (all 8 for symmetric quantization).
//!   Kernels read them as `u32` arrays: [`Q4Weights::scales_packed`] puts two f16 scales in a
//!   word (low half first) and [`Q4Weights::zero_points_packed`] four zero points (byte `j` of
//!   word `i` is group `4 i + j`).
//! - Element `(n, k)` is `(q - zero_point[n, g]) * f32::from(scales[n, g])` with `g = k / G`.
//!   `q - zero_point` is an integer in `[-15, 15]` (4 bits and a sign) and an f16 scale has an
//!   11-bit significand, so the product fits f32's 24-bit significand and is exact: kernels that
//!   compute it in f32 get bit-identical results to [`Q4Weights::dequantize`].

use half::f16;

use crate::error::{Error, Result};
use crate::tensor::quant::{
    check_finite, check_matrix_len, dequantize, min_max, quantize_u4, round_half_even,
};

/// The zero point of symmetric groups, and the padding of [`Q4Weights::zero_points_packed`].
const SYMMETRIC_ZERO_POINT: u8 = 8;
/// 4-bit values in one `u32` word.
const NIBBLES_PER_WORD: usize = 8;
/// The largest 4-bit value.
const MAX_Q4: u8 = 15;

/// How many consecutive `K` elements share one scale and zero point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Q4GroupSize {
    /// 32 elements per group.
    G32,
    /// 64 elements per group.
    G64,
    /// 128 elements per group.
    G128,
}

impl Q4GroupSize {
    /// Elements per group: 32, 64 or 128.
    pub fn elements(self) -> usize {
        match self {
            Q4GroupSize::G32 => 32,
            Q4GroupSize::G64 => 64,
            Q4GroupSize::G128 => 128,
        }
    }

    /// The group size with `elements` elements; any other count is [`Error::InvalidArgument`].
    pub fn from_elements(elements: usize) -> Result<Self> {
        match elements {
            32 => Ok(Q4GroupSize::G32),
            64 => Ok(Q4GroupSize::G64),
            128 => Ok(Q4GroupSize::G128),
            _ => Err(Error::InvalidArgument {
                op: "Q4GroupSize::from_elements",
                detail: format!("group size {elements} is not one of 32, 64, 128"),
            }),
        }
    }
}

/// Int4 weights with one f16 scale and 4-bit zero point per group, laid out as the module
/// documentation describes.
#[derive(Clone, Debug, PartialEq)]
pub struct Q4Weights {
    /// Output channels `N`.
    pub rows: usize,
    /// Reduction length `K`.
    pub cols: usize,
    /// Elements of `K` per group.
    pub group_size: Q4GroupSize,
    /// `ceil(cols / group_size)`.
    pub groups_per_row: usize,
    /// `rows * words_per_row` words of eight 4-bit values, low nibble first.
    pub packed: Vec<u32>,
    /// `rows * groups_per_row` finite positive scales, index `row * groups_per_row + group`.
    pub scales: Vec<f16>,
    /// `rows * groups_per_row` zero points in `0..=15`, one byte each, indexed like `scales`.
    pub zero_points: Vec<u8>,
}

/// Picks one group's f16 scale and zero point by the rule [`Q4Weights::quantize`] documents,
/// or says why it cannot.
fn group_params(group_weights: &[f32], symmetric: bool) -> std::result::Result<(f16, u8), String> {
    let (min, max) = min_max(group_weights);
    let (min, max) = (min.min(0.0), max.max(0.0));
    if min == max {
        let zero_point = if symmetric { SYMMETRIC_ZERO_POINT } else { 0 };
        return Ok((f16::ONE, zero_point));
    }
    let exact_scale = if symmetric {
        min.abs().max(max) / 7.0
    } else {
        (max - min) / 15.0
    };
    let zero_point_for = |scale: f16| {
        let zero_point = round_half_even(-min / f32::from(scale));
        zero_point.clamp(0.0, f32::from(MAX_Q4)) as u8
    };
    let top_level = |scale: f16| f32::from(MAX_Q4 - zero_point_for(scale)) * f32::from(scale);
    let mut scale = f16::from_f32(exact_scale);
    if !symmetric && scale.is_finite() && top_level(scale) < max - f32::from(scale) / 2.0 {
        scale = f16::from_bits(scale.to_bits() + 1);
    }
    if !scale.is_finite() {
        let largest = f16::MAX;
        return Err(format!(
            "weights in [{min}, {max}] need scale {exact_scale}, beyond f16's largest {largest}"
        ));
    }
    let scale = scale.max(f16::MIN_POSITIVE);
    let zero_point = if symmetric {
        SYMMETRIC_ZERO_POINT
    } else {
        zero_point_for(scale)
    };
    Ok((scale, zero_point))
}

/// Checks the per-group arrays of [`Q4Weights::from_parts`]: `group_count` of each, scales finite
/// and positive, zero points in `0..=15`.
fn check_group_parts(
    op: &'static str,
    group_count: usize,
    scales: &[f16],
    zero_points: &[u8],
) -> Result<()> {
    if scales.len() != group_count || zero_points.len() != group_count {
        let (scale_count, zero_point_count) = (scales.len(), zero_points.len());
        let detail = format!(
            "needs {group_count} scales and zero points, got {scale_count} and {zero_point_count}"
        );
        return Err(Error::ShapeMismatch { op, detail });
    }
    let valid_scale = |scale: &f16| scale.is_finite() && *scale > f16::ZERO;
    let detail = if let Some(group) = zero_points.iter().position(|&point| point > MAX_Q4) {
        let zero_point = zero_points[group];
        format!("zero point {zero_point} of group {group} exceeds 15")
    } else if let Some(group) = scales.iter().position(|scale| !valid_scale(scale)) {
        let scale = scales[group];
        format!("scale {scale} of group {group} is not finite and positive")
    } else {
        return Ok(());
    };
    Err(Error::InvalidArgument { op, detail })
}

impl Q4Weights {
    /// Quantizes row-major `[rows, cols]` weights (`N x K`) group by group along `K`.
    ///
    /// Per group, with the scale rounded to f16 and that rounded scale used to divide:
    /// - symmetric: `scale = amax / 7`, zero point 8;
    /// - asymmetric: the range extended to include 0, `scale = (max - min) / 15`,
    ///   `zero_point = clamp(round_half_even(-min / scale), 0, 15)`. In the rare group where the
    ///   nearest f16 scale and the zero point's rounding together leave the top level more than
    ///   half a step below `max`, the next f16 scale up is used instead, so every weight stays
    ///   within half a step;
    /// - then `q = clamp(round_half_even(w / scale) + zero_point, 0, 15)`.
    ///
    /// An all-zero group gets scale 1.0. A scale below the smallest positive normal f16
    /// (`6.1e-5`, from tiny weights) is raised to it: a zero scale would divide by zero and kernels
    /// may flush subnormal f16 to zero, while the larger scale still covers the group within half
    /// a step. NaN or infinite weights, and groups whose scale overflows f16 (`|w|` above about
    /// 458 000), are [`Error::InvalidArgument`].
    ///
    /// ```
    /// use kiln::tensor::{Q4GroupSize, Q4Weights};
    /// let weights: Vec<f32> = (0..40).map(|k| k as f32 - 20.0).collect();
    /// let q4 = Q4Weights::quantize(&weights, 1, 40, Q4GroupSize::G32, true)?;
    /// assert_eq!((q4.groups_per_row, q4.words_per_row(), q4.value_q(0, 39)), (2, 8, 15));
    /// # Ok::<(), kiln::Error>(())
    /// ```
    pub fn quantize(
        weights: &[f32],
        rows: usize,
        cols: usize,
        group_size: Q4GroupSize,
        symmetric: bool,
    ) -> Result<Self> {
        let op = "Q4Weights::quantize";
        check_matrix_len(op, weights.len(), rows, cols)?;
        check_finite(op, weights, cols)?;
        let mut values = Vec::with_capacity(weights.len());
        let mut scales = Vec::new();
        let mut zero_points = Vec::new();
        for (row, row_weights) in weights.chunks_exact(cols).enumerate() {
            for (group, group_weights) in row_weights.chunks(group_size.elements()).enumerate() {
                let (scale, zero_point) =
                    group_params(group_weights, symmetric).map_err(|detail| {
                        Error::InvalidArgument {
                            op,
                            detail: format!("row {row}, group {group}: {detail}"),
                        }
                    })?;
                let scale_f32 = f32::from(scale);
                let quantize = |&w: &f32| quantize_u4(w, scale_f32, zero_point);
                values.extend(group_weights.iter().map(quantize));
                scales.push(scale);
                zero_points.push(zero_point);
            }
        }
        Self::from_parts(rows, cols, group_size, &values, scales, zero_points)
    }

    /// Builds weights from 4-bit values `q` (row-major `[rows, cols]`, one per byte, each
    /// `0..=15`) and per-group scales (finite, positive) and zero points (`0..=15`), validating
    /// and packing them.
    pub fn from_parts(
        rows: usize,
        cols: usize,
        group_size: Q4GroupSize,
        q: &[u8],
        scales: Vec<f16>,
        zero_points: Vec<u8>,
    ) -> Result<Self> {
        let op = "Q4Weights::from_parts";
        check_matrix_len(op, q.len(), rows, cols)?;
        let group_len = group_size.elements();
        let groups_per_row = cols.div_ceil(group_len);
        check_group_parts(op, rows * groups_per_row, &scales, &zero_points)?;
        if let Some(index) = q.iter().position(|&value| value > MAX_Q4) {
            let detail = format!(
                "value {} at ({}, {}) exceeds 15",
                q[index],
                index / cols,
                index % cols
            );
            return Err(Error::InvalidArgument { op, detail });
        }
        let words_per_row = groups_per_row * group_len / NIBBLES_PER_WORD;
        let word_count = rows
            .checked_mul(words_per_row)
            .ok_or_else(|| Error::InvalidArgument {
                op,
                detail: format!("{rows} rows of {words_per_row} words overflow usize"),
            })?;
        let mut packed = vec![0u32; word_count];
        for (row, row_words) in packed.chunks_exact_mut(words_per_row).enumerate() {
            let padding = zero_points[row * groups_per_row + groups_per_row - 1];
            for k in 0..groups_per_row * group_len {
                let value = if k < cols { q[row * cols + k] } else { padding };
                row_words[k / NIBBLES_PER_WORD] |= u32::from(value) << (4 * (k % NIBBLES_PER_WORD));
            }
        }
        Ok(Self {
            rows,
            cols,
            group_size,
            groups_per_row,
            packed,
            scales,
            zero_points,
        })
    }

    /// Words per row of `packed`: `groups_per_row * group_size / 8`.
    pub fn words_per_row(&self) -> usize {
        self.groups_per_row * self.group_size.elements() / NIBBLES_PER_WORD
    }

    /// The 4-bit value at `(row, col)`, in `0..=15`.
    ///
    /// # Panics
    /// If `row >= rows` or `col >= cols`.
    pub fn value_q(&self, row: usize, col: usize) -> u8 {
        assert!(
            row < self.rows && col < self.cols,
            "({row}, {col}) is out of bounds"
        );
        let word = self.packed[row * self.words_per_row() + col / NIBBLES_PER_WORD];
        ((word >> (4 * (col % NIBBLES_PER_WORD))) & 0xF) as u8
    }

    /// The dequantized weights, row-major `[rows, cols]`.
    pub fn dequantize(&self) -> Vec<f32> {
        let group_len = self.group_size.elements();
        let mut values = Vec::with_capacity(self.rows * self.cols);
        for row in 0..self.rows {
            for col in 0..self.cols {
                let group = row * self.groups_per_row + col / group_len;
                let (scale, zero_point) = (self.scales[group], self.zero_points[group]);
                let q = self.value_q(row, col);
                values.push(dequantize(q.into(), scale.into(), zero_point.into()));
            }
        }
        values
    }

    /// The zero points four to a word: byte `j` of word `i` is group `4 i + j`; the last word is
    /// padded with 8.
    pub fn zero_points_packed(&self) -> Vec<u32> {
        self.zero_points
            .chunks(4)
            .map(|chunk| {
                let mut bytes = [SYMMETRIC_ZERO_POINT; 4];
                bytes[..chunk.len()].copy_from_slice(chunk);
                u32::from_le_bytes(bytes)
            })
            .collect()
    }

    /// The f16 scales two to a word, group `2 i` in the low half of word `i`; the last word is
    /// padded with 0.
    pub fn scales_packed(&self) -> Vec<u32> {
        self.scales
            .chunks(2)
            .map(|pair| {
                let high = pair.get(1).map_or(0, |scale| u32::from(scale.to_bits()));
                u32::from(pair[0].to_bits()) | (high << 16)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::quant::test_values;
    use Q4GroupSize::{G128, G32, G64};

    /// Quantizes `[rows, cols]` weights and checks the shapes, that the padding nibbles hold the
    /// last group's zero point (so they dequantize to 0), and the half-step round-trip bound.
    fn check_round_trip(weights: &[f32], rows: usize, cols: usize, group_size: Q4GroupSize) {
        for symmetric in [true, false] {
            let case = format!("{group_size:?} cols {cols} symmetric {symmetric}");
            let q4 = Q4Weights::quantize(weights, rows, cols, group_size, symmetric).unwrap();
            let group_len = group_size.elements();
            let word_count = rows * cols.div_ceil(group_len) * group_len / 8;
            assert_eq!(q4.packed.len(), word_count, "{case}");
            assert_eq!(q4.scales.len(), rows * q4.groups_per_row, "{case}");
            for row in 0..rows {
                let padding = u32::from(q4.zero_points[(row + 1) * q4.groups_per_row - 1]);
                for k in cols..q4.groups_per_row * group_len {
                    let word = q4.packed[row * q4.words_per_row() + k / 8];
                    assert_eq!((word >> (4 * (k % 8))) & 0xF, padding, "{case} k {k}");
                }
            }
            for (index, (&w, back)) in weights.iter().zip(q4.dequantize()).enumerate() {
                let group = index / cols * q4.groups_per_row + index % cols / group_len;
                let scale = f32::from(q4.scales[group]);
                // Slack for the f32 roundings of w / scale and max - min: a few ulps of w.
                let tolerance = scale / 2.0 + 4.0 * f32::EPSILON * w.abs().max(scale);
                let error = (back - w).abs();
                assert!(error <= tolerance, "{case} index {index}: {w} -> {back}");
            }
            assert!(!symmetric || q4.zero_points.iter().all(|&zero_point| zero_point == 8));
        }
    }

    #[test]
    fn shapes_padding_and_round_trip() {
        for group_size in [G32, G64, G128] {
            for cols in [1, 31, 32, 33, 100, 128, 129] {
                let weights = test_values(3 * cols, cols as u64, 2.0);
                check_round_trip(&weights, 3, cols, group_size);
            }
        }
        let mut positive = test_values(2 * 64, 3, 5.0);
        positive.iter_mut().for_each(|w| *w = w.abs() + 1.0);
        check_round_trip(&positive, 2, 64, G32);
    }

    #[test]
    fn dequantized_products_are_exact_and_parts_rebuild() {
        let weights = test_values(4 * 96, 9, 37.0);
        let q4 = Q4Weights::quantize(&weights, 4, 96, G32, false).unwrap();
        for (index, value) in q4.dequantize().into_iter().enumerate() {
            let (row, col) = (index / 96, index % 96);
            let group = row * q4.groups_per_row + col / 32;
            let steps = f64::from(q4.value_q(row, col)) - f64::from(q4.zero_points[group]);
            let exact = steps * f64::from(q4.scales[group]);
            assert_eq!(f64::from(value), exact, "index {index}");
        }
        let values: Vec<u8> = (0..4 * 96).map(|i| q4.value_q(i / 96, i % 96)).collect();
        let (scales, zero_points) = (q4.scales.clone(), q4.zero_points.clone());
        let rebuilt = Q4Weights::from_parts(4, 96, G32, &values, scales, zero_points);
        assert_eq!(rebuilt.unwrap(), q4);
    }

    #[test]
    fn special_groups() {
        let zeros = Q4Weights::quantize(&[0.0; 32], 1, 32, G32, false).unwrap();
        assert_eq!((zeros.scales[0], zeros.zero_points[0]), (f16::ONE, 0));
        let tiny = Q4Weights::quantize(&[1e-9, -3e-9], 1, 2, G32, true).unwrap();
        assert_eq!(tiny.scales[0], f16::MIN_POSITIVE);
        // A range of 15.0037 rounds to the f16 scale 1.0; from 0 its levels reach 15, within half a
        // step of the top, but from -1.5 the zero point rounds to 2 and the top level 13 falls
        // short of 13.5037 by more than half a step, so the scale steps up to the next f16.
        let range = 15.0 * (1.0 + 2f32.powi(-12));
        let covered = Q4Weights::quantize(&[0.0, range], 1, 2, G32, false).unwrap();
        assert_eq!(covered.scales[0], f16::ONE);
        let short = Q4Weights::quantize(&[-1.5, range - 1.5], 1, 2, G32, false).unwrap();
        assert_eq!(short.scales[0], f16::from_bits(f16::ONE.to_bits() + 1));
        assert_eq!(short.zero_points[0], 1);
    }

    #[test]
    fn rejects_bad_inputs() {
        let invalid = |result| matches!(result, Err(Error::InvalidArgument { .. }));
        let shape = |result| matches!(result, Err(Error::ShapeMismatch { .. }));
        let quantize = |weights: &[f32], symmetric| {
            Q4Weights::quantize(weights, 1, weights.len(), G32, symmetric)
        };
        assert!(invalid(quantize(&[0.0, f32::NAN], true)));
        assert!(invalid(quantize(&[f32::INFINITY], true)));
        assert!(invalid(quantize(&[0.0, 1e6], true)));
        assert!(invalid(quantize(&[-1e6, 1e6], false)));
        assert!(invalid(quantize(&[], false)));
        assert!(shape(Q4Weights::quantize(&[0.0; 3], 2, 2, G32, false)));
        let (values, scales, zero_points) = (vec![3u8; 70], vec![f16::ONE; 4], vec![8u8; 4]);
        let build = |values: &[u8], scales: &[f16], zero_points: &[u8]| {
            let parts = (scales.to_vec(), zero_points.to_vec());
            Q4Weights::from_parts(2, 35, G32, values, parts.0, parts.1)
        };
        assert!(build(&values, &scales, &zero_points).is_ok());
        for scale in [f16::ZERO, f16::from_f32(-1.0), f16::INFINITY, f16::NAN] {
            let one_bad = [f16::ONE, scale, f16::ONE, f16::ONE];
            assert!(invalid(build(&values, &one_bad, &zero_points)));
        }
        assert!(invalid(build(&[16; 70], &scales, &zero_points)));
        assert!(invalid(build(&values, &scales, &[8, 8, 16, 8])));
        assert!(shape(build(&values[1..], &scales, &zero_points)));
        assert!(shape(build(&values, &scales[1..], &zero_points)));
        assert!(shape(build(&values, &scales, &zero_points[1..])));
        let bad_group = Q4GroupSize::from_elements(16);
        assert!(matches!(bad_group, Err(Error::InvalidArgument { .. })));
        for group_size in [G32, G64, G128] {
            let round_trip = Q4GroupSize::from_elements(group_size.elements());
            assert_eq!(round_trip.ok(), Some(group_size));
        }
    }

    #[test]
    fn packed_helpers() {
        let values: Vec<u8> = (0..3 * 40).map(|index| (index % 16) as u8).collect();
        let scales: Vec<f16> = (1..=6).map(|group| f16::from_f32(group as f32)).collect();
        let zero_points = vec![1, 2, 3, 4, 5, 6];
        let q4 = Q4Weights::from_parts(3, 40, G32, &values, scales.clone(), zero_points).unwrap();
        assert_eq!(q4.packed[0], 0x7654_3210);
        assert_eq!(q4.zero_points_packed(), vec![0x0403_0201, 0x0808_0605]);
        let scale_bits = |group: usize| u32::from(scales[group].to_bits());
        assert_eq!(q4.scales_packed()[1], scale_bits(2) | (scale_bits(3) << 16));
        assert_eq!(q4.scales_packed().len(), 3);
        let odd = Q4Weights::from_parts(1, 1, G32, &[3], vec![f16::ONE], vec![8]).unwrap();
        assert_eq!(odd.scales_packed(), vec![u32::from(f16::ONE.to_bits())]);
        assert_eq!(odd.zero_points_packed(), vec![0x0808_0808]);
    }
}
