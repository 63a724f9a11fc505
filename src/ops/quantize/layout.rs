//! Which scale and zero point each element of a QuantizeLinear / DequantizeLinear uses (ONNX
//! opset 21: per tensor, per axis, or blocked along an axis), and when a GPU quotient may
//! legitimately round to the other side of a .5 boundary.

use crate::error::{Error, Result};
use crate::tensor::shape::normalize_axis;

/// The attributes of QuantizeLinear and DequantizeLinear that choose the granularity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QdqAttributes {
    /// The axis of per-axis and blocked quantization; negative counts from the end (ONNX
    /// default 1). Ignored for a scalar scale.
    pub axis: i64,
    /// Elements per block along `axis` for blocked quantization; 0 for per-tensor or per-axis.
    pub block_size: usize,
}

impl Default for QdqAttributes {
    fn default() -> Self {
        QdqAttributes {
            axis: 1,
            block_size: 0,
        }
    }
}

/// How scales map onto the elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// One scale for the whole tensor.
    PerTensor,
    /// One scale per index along the axis.
    PerAxis,
    /// One scale per block of `block_size` elements along the axis.
    Blocked,
}

/// x viewed as `[outer, axis_len, inner]` with the granularity that picks each element's scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QdqLayout {
    /// Per tensor, per axis or blocked.
    pub granularity: Granularity,
    /// Elements of x.
    pub count: usize,
    /// The length of the quantization axis (1 for per-tensor).
    pub axis_len: usize,
    /// Elements after the axis (the product of the later dims).
    pub inner: usize,
    /// Elements per block along the axis (1 unless blocked).
    pub block_size: usize,
    /// Blocks along the axis: `⌈axis_len / block_size⌉`.
    pub blocks: usize,
}

impl QdqLayout {
    /// Checks `scale_shape` (and `zero_point_shape`, which must equal it) against `x_shape` and
    /// the attributes, following ONNX: a scalar (`[]` or `[1]`) scale is per tensor; with
    /// `block_size` 0 a 1-D scale of `x.shape[axis]` values is per axis; with `block_size` > 0 the
    /// scale has x's rank and shape except `⌈x.shape[axis] / block_size⌉` along the axis.
    pub fn resolve(
        op: &'static str,
        x_shape: &[usize],
        scale_shape: &[usize],
        zero_point_shape: Option<&[usize]>,
        attributes: &QdqAttributes,
    ) -> Result<Self> {
        let mismatch = |detail: String| Error::ShapeMismatch { op, detail };
        if let Some(zero_point_shape) = zero_point_shape.filter(|shape| *shape != scale_shape) {
            return Err(mismatch(format!(
                "zero point shape {zero_point_shape:?} must equal the scale shape {scale_shape:?}"
            )));
        }
        let count = x_shape.iter().product();
        let scalar = scale_shape.iter().product::<usize>() == 1 && scale_shape.len() <= 1;
        if attributes.block_size == 0 && scalar {
            return Ok(QdqLayout {
                granularity: Granularity::PerTensor,
                count,
                axis_len: 1,
                inner: 1,
                block_size: 1,
                blocks: 1,
            });
        }
        let axis = normalize_axis(op, attributes.axis, x_shape.len())?;
        let axis_len = x_shape[axis];
        let inner = x_shape[axis + 1..].iter().product();
        if attributes.block_size == 0 {
            if scale_shape != [axis_len] {
                return Err(mismatch(format!(
                    "a per-axis scale must be [{axis_len}] (x {x_shape:?}, axis {axis}); got \
                     {scale_shape:?}"
                )));
            }
            return Ok(QdqLayout {
                granularity: Granularity::PerAxis,
                count,
                axis_len,
                inner,
                block_size: 1,
                blocks: axis_len,
            });
        }
        let blocks = axis_len.div_ceil(attributes.block_size);
        let mut expected = x_shape.to_vec();
        expected[axis] = blocks;
        if scale_shape != expected.as_slice() {
            return Err(mismatch(format!(
                "a blocked scale for x {x_shape:?} with block size {} along axis {axis} must be \
                 {expected:?} (⌈{axis_len} / {}⌉ = {blocks} blocks); got {scale_shape:?}",
                attributes.block_size, attributes.block_size
            )));
        }
        Ok(QdqLayout {
            granularity: Granularity::Blocked,
            count,
            axis_len,
            inner,
            block_size: attributes.block_size,
            blocks,
        })
    }

    /// The index of the scale (and zero point) of element `index` of x.
    pub fn param_index(&self, index: usize) -> usize {
        match self.granularity {
            Granularity::PerTensor => 0,
            Granularity::PerAxis => (index / self.inner) % self.axis_len,
            Granularity::Blocked => {
                let along_axis = (index / self.inner) % self.axis_len;
                let outer = index / (self.inner * self.axis_len);
                (outer * self.blocks + along_axis / self.block_size) * self.inner
                    + index % self.inner
            }
        }
    }

    /// The granularity code of `shaders/quantize_common.wgsl`.
    pub(crate) fn granularity_code(&self) -> u32 {
        match self.granularity {
            Granularity::PerTensor => 0,
            Granularity::PerAxis => 1,
            Granularity::Blocked => 2,
        }
    }
}

/// Whether the GPU's `x / scale` may round to a different integer than ONNX's correctly rounded
/// quotient, so that its quantized value may differ by one.
///
/// WGSL computes f32 division to within 2.5 ULP of the exact quotient `r = x / scale` (for
/// `|r|` in `[2⁻¹²⁶, 2¹²⁶]`), while ONNX rounds it correctly (within 0.5 ULP). Both values lie in
/// `[r − 2.5 ULP, r + 2.5 ULP]`; rounding half to even is monotonic with steps at the half
/// integers `k + ½`, so unless such a boundary lies in that interval the two round to the same
/// integer, and if one does they differ by at most one (the interval is narrower than 1 below
/// 2²²). After adding the zero point and saturating, which cannot widen a gap, the outputs differ
/// by at most one as well. This returns true when the exact quotient (in f64) is within 3 ULP of
/// f32 (the ULP above `|r|`, the larger one) of a half integer: 2.5 ULP and margin for the f64
/// quotient's own rounding. Tiny quotients (where a GPU may flush to zero) round to 0 either way,
/// NaN and infinities are handled exactly, so they return false.
pub fn quotient_near_tie(x: f32, scale: f32) -> bool {
    let quotient = f64::from(x) / f64::from(scale);
    if !quotient.is_finite() {
        return false;
    }
    let magnitude = (quotient as f32).abs();
    let ulp = f64::from(magnitude.next_up() - magnitude);
    let half_integer = quotient.floor() + 0.5;
    (quotient - half_integer).abs() <= 3.0 * ulp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(x: &[usize], scale: &[usize], axis: i64, block_size: usize) -> Result<QdqLayout> {
        QdqLayout::resolve("t", x, scale, None, &QdqAttributes { axis, block_size })
    }

    #[test]
    fn granularities_map_elements_to_scales() {
        let per_tensor = layout(&[2, 3], &[], 1, 0).unwrap();
        assert_eq!(per_tensor.granularity, Granularity::PerTensor);
        assert_eq!(per_tensor.param_index(5), 0);
        let per_axis = layout(&[2, 3, 4], &[3], -2, 0).unwrap();
        assert_eq!(
            (0..24).map(|i| per_axis.param_index(i)).collect::<Vec<_>>()[..9],
            [0, 0, 0, 0, 1, 1, 1, 1, 2]
        );
        // x [2, 5] blocked by 2 along axis 1: scale [2, 3], the last block partial.
        let blocked = layout(&[2, 5], &[2, 3], 1, 2).unwrap();
        let indices: Vec<usize> = (0..10).map(|i| blocked.param_index(i)).collect();
        assert_eq!(indices, [0, 0, 1, 1, 2, 3, 3, 4, 4, 5]);
        // Blocked along axis 0 of [5, 2]: scale [3, 2].
        let blocked = layout(&[5, 2], &[3, 2], 0, 2).unwrap();
        let indices: Vec<usize> = (0..10).map(|i| blocked.param_index(i)).collect();
        assert_eq!(indices, [0, 1, 0, 1, 2, 3, 2, 3, 4, 5]);
    }

    #[test]
    fn rejects_scales_that_do_not_fit() {
        assert!(layout(&[2, 3], &[2], 1, 0).is_err());
        assert!(layout(&[2, 3], &[3], 2, 0).is_err());
        assert!(layout(&[2, 5], &[2, 2], 1, 2).is_err());
        assert!(layout(&[2, 5], &[3], 1, 2).is_err());
        let zero_point = QdqLayout::resolve("t", &[4], &[4], Some(&[2]), &QdqAttributes::default());
        assert!(zero_point.is_err());
    }

    #[test]
    fn near_tie_detection() {
        assert!(quotient_near_tie(2.5, 1.0));
        assert!(quotient_near_tie(0.3, 0.2)); // 1.4999999
        assert!(!quotient_near_tie(0.26, 0.1));
        assert!(!quotient_near_tie(f32::NAN, 0.1));
        assert!(!quotient_near_tie(f32::INFINITY, 0.1));
        assert!(!quotient_near_tie(1e-30, 1.0));
    }
}
