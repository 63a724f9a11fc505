//! Convolution geometry over any number of spatial axes, resolved as ONNX states it: empty
//! attribute lists take their defaults from the weight's rank, `auto_pad` computes the pads from
//! the input shape, and ConvTranspose's `output_shape` sets its pads (possibly negative, which
//! extends the output instead of cropping it, as ONNX's reference does).

use crate::error::Result;
use crate::graph::{AutoPad, ConvAttrs, ConvTransposeAttrs};
use crate::runtime::cpu::args::{invalid, shape_error, MAX_OUTPUT_ELEMENTS};

/// A convolution's resolved geometry over `s` spatial axes.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ConvGeometry {
    /// Kernel extent per spatial axis (the weight's).
    pub kernel: Vec<usize>,
    /// Stride per spatial axis.
    pub strides: Vec<usize>,
    /// Dilation per spatial axis.
    pub dilations: Vec<usize>,
    /// Begin pads per spatial axis.
    pub pads_begin: Vec<i64>,
    /// End pads per spatial axis.
    pub pads_end: Vec<i64>,
    /// Channel groups.
    pub group: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Output extent per spatial axis.
    pub output: Vec<usize>,
}

impl ConvGeometry {
    /// Conv (and QLinearConv): `x` is `[N, C, spatial…]`, `w` is `[M, C / group, kernel…]`.
    pub fn forward(attrs: &ConvAttrs, x: &[usize], w: &[usize]) -> Result<Self> {
        let (spatial, kernel) = split_shapes(attrs, x, w)?;
        let attrs = &attrs.with_spatial_defaults(spatial.len());
        let group = attrs.group;
        if !w[0].is_multiple_of(group) || w[1].checked_mul(group) != Some(x[1]) {
            return Err(shape_error(format!(
                "weight {w:?} must be [M, C / group, ...] with group {group} dividing M, for \
                 input {x:?}"
            )));
        }
        let strides = per_axis("strides", &attrs.strides, spatial.len(), 1)?;
        let dilations = per_axis("dilations", &attrs.dilations, spatial.len(), 1)?;
        let (pads_begin, pads_end) = match attrs.auto_pad {
            AutoPad::NotSet => explicit_pads(&attrs.pads, spatial.len())?,
            AutoPad::Valid => (vec![0; spatial.len()], vec![0; spatial.len()]),
            AutoPad::SameUpper | AutoPad::SameLower => {
                same_pads(attrs.auto_pad, spatial, &kernel, &strides, &dilations)
            }
        };
        let mut output = Vec::with_capacity(spatial.len());
        for axis in 0..spatial.len() {
            let padded = spatial[axis] as i64 + pads_begin[axis] + pads_end[axis];
            let extent = dilated(kernel[axis], dilations[axis]);
            if extent > padded {
                return Err(shape_error(format!(
                    "the dilated kernel spans {extent} on spatial axis {axis}, more than the \
                     padded input's {padded}"
                )));
            }
            output.push(((padded - extent) / strides[axis] as i64 + 1) as usize);
        }
        Ok(ConvGeometry {
            kernel,
            strides,
            dilations,
            pads_begin,
            pads_end,
            group,
            out_channels: w[0],
            output,
        })
    }

    /// ConvTranspose: `x` is `[N, C, spatial…]`, `w` is `[C, M / group, kernel…]`. The full
    /// output extent is `stride·(in − 1) + output_padding + dilation·(k − 1) + 1`; the pads crop
    /// it, and come from `output_shape` (or, with `SAME_*`, from `in · stride`) when given.
    pub fn transposed(attrs: &ConvTransposeAttrs, x: &[usize], w: &[usize]) -> Result<Self> {
        let (spatial, kernel) = split_shapes(&attrs.conv, x, w)?;
        let attrs = &attrs.with_spatial_defaults(spatial.len());
        let conv = &attrs.conv;
        let group = conv.group;
        if w[0] != x[1] || !x[1].is_multiple_of(group) {
            return Err(shape_error(format!(
                "weight {w:?} must be [C, M / group, ...] with group {group} dividing C, for \
                 input {x:?}"
            )));
        }
        let rank = spatial.len();
        let strides = per_axis("strides", &conv.strides, rank, 1)?;
        let dilations = per_axis("dilations", &conv.dilations, rank, 1)?;
        let output_padding = per_axis("output_padding", &attrs.output_padding, rank, 0)?;
        let full: Vec<i64> = (0..rank)
            .map(|axis| {
                (strides[axis] * (spatial[axis] - 1) + output_padding[axis]) as i64
                    + dilated(kernel[axis], dilations[axis])
            })
            .collect();
        let (pads_begin, pads_end) = transposed_pads(attrs, spatial, &strides, &full)?;
        let mut output = Vec::with_capacity(rank);
        for axis in 0..rank {
            let extent = full[axis] - pads_begin[axis] - pads_end[axis];
            if extent < 1 {
                return Err(shape_error(format!(
                    "pads ({}, {}) crop the whole {}-wide output on spatial axis {axis}",
                    pads_begin[axis], pads_end[axis], full[axis]
                )));
            }
            output.push(extent as usize);
        }
        Ok(ConvGeometry {
            kernel,
            strides,
            dilations,
            pads_begin,
            pads_end,
            group,
            out_channels: w[1] * group,
            output,
        })
    }

    /// The pads as unsigned values when none is negative.
    pub fn unsigned_pads(&self) -> Option<(Vec<usize>, Vec<usize>)> {
        let unsigned = |pads: &[i64]| {
            pads.iter()
                .map(|&pad| usize::try_from(pad).ok())
                .collect::<Option<Vec<usize>>>()
        };
        Some((unsigned(&self.pads_begin)?, unsigned(&self.pads_end)?))
    }
}

/// ConvTranspose's pads: from the output extents asked for (`output_shape`, or `in · stride`
/// with `SAME_*`) as ONNX's reference splits the excess `full − target` (floor division, so a
/// negative excess puts its odd unit at the end), else `VALID`'s zeros or the explicit pads.
fn transposed_pads(
    attrs: &ConvTransposeAttrs,
    spatial: &[usize],
    strides: &[usize],
    full: &[i64],
) -> Result<(Vec<i64>, Vec<i64>)> {
    let (rank, auto_pad) = (spatial.len(), attrs.conv.auto_pad);
    let target: Vec<i64> = match (attrs.output_shape.len(), auto_pad) {
        (0, AutoPad::SameUpper | AutoPad::SameLower) => (0..rank)
            .map(|axis| (spatial[axis] * strides[axis]) as i64)
            .collect(),
        (0, AutoPad::Valid) => return Ok((vec![0; rank], vec![0; rank])),
        (0, _) => return explicit_pads(&attrs.conv.pads, rank),
        (len, _) if len == rank || len == rank + 2 => {
            let given = per_axis("output_shape", &attrs.output_shape[len - rank..], rank, 0)?;
            given.iter().map(|&extent| extent as i64).collect()
        }
        (len, _) => {
            return Err(invalid(format!(
                "output_shape has {len} entries for {rank} spatial axes"
            )))
        }
    };
    Ok((0..rank)
        .map(|axis| {
            let total = full[axis] - target[axis];
            let half = total.div_euclid(2);
            if auto_pad == AutoPad::SameUpper {
                (half, total - half)
            } else {
                (total - half, half)
            }
        })
        .unzip())
}

/// `(k − 1)·dilation + 1`: the extent a dilated kernel covers.
fn dilated(kernel: usize, dilation: usize) -> i64 {
    ((kernel - 1) * dilation + 1) as i64
}

/// Checks ranks, sizes and the group; returns the input's spatial extents and the kernel.
fn split_shapes<'x>(
    attrs: &ConvAttrs,
    x: &'x [usize],
    w: &[usize],
) -> Result<(&'x [usize], Vec<usize>)> {
    if x.len() < 3 || w.len() != x.len() {
        return Err(shape_error(format!(
            "input must be [N, C, spatial...] and the weight of the same rank, got {x:?} and {w:?}"
        )));
    }
    if x[1..].contains(&0) || w.contains(&0) {
        return Err(shape_error(format!(
            "channels, spatial extents and weight extents must be ≥ 1, got {x:?} and {w:?}"
        )));
    }
    let kernel = w[2..].to_vec();
    if !attrs.kernel_shape.is_empty() && attrs.kernel_shape != kernel {
        return Err(invalid(format!(
            "kernel_shape {:?} differs from the weight's {kernel:?}",
            attrs.kernel_shape
        )));
    }
    if attrs.group == 0 || kernel.iter().any(|&k| k > MAX_OUTPUT_ELEMENTS) {
        return Err(invalid(format!(
            "group {} and kernel {kernel:?} are out of range",
            attrs.group
        )));
    }
    Ok((&x[2..], kernel))
}

/// An attribute list with one entry per spatial axis (empty: `default` everywhere); strides and
/// dilations must be ≥ 1, and every entry at most [`MAX_OUTPUT_ELEMENTS`].
pub(super) fn per_axis(
    name: &str,
    list: &[usize],
    rank: usize,
    default: usize,
) -> Result<Vec<usize>> {
    let values = if list.is_empty() {
        vec![default; rank]
    } else {
        list.to_vec()
    };
    let at_least = usize::from(default == 1);
    if values.len() != rank
        || values
            .iter()
            .any(|&v| v < at_least || v > MAX_OUTPUT_ELEMENTS)
    {
        return Err(invalid(format!(
            "{name} {list:?} must hold {rank} values in [{at_least}, {MAX_OUTPUT_ELEMENTS}]"
        )));
    }
    Ok(values)
}

/// Explicit ONNX pads `[begins…, ends…]` (empty: none).
pub(super) fn explicit_pads(pads: &[usize], rank: usize) -> Result<(Vec<i64>, Vec<i64>)> {
    let pads = per_axis("pads", pads, 2 * rank, 0)?;
    let signed: Vec<i64> = pads.iter().map(|&pad| pad as i64).collect();
    Ok((signed[..rank].to_vec(), signed[rank..].to_vec()))
}

/// `SAME_UPPER` / `SAME_LOWER` pads: the output is `ceil(in / stride)` and the padding it needs,
/// `(out − 1)·stride + dilated kernel − in` (at least 0), is split in half, the odd one at the end
/// (upper) or the beginning (lower).
pub(super) fn same_pads(
    auto_pad: AutoPad,
    spatial: &[usize],
    kernel: &[usize],
    strides: &[usize],
    dilations: &[usize],
) -> (Vec<i64>, Vec<i64>) {
    (0..spatial.len())
        .map(|axis| {
            let (size, stride) = (spatial[axis] as i64, strides[axis] as i64);
            let out = (size + stride - 1) / stride;
            let total = ((out - 1) * stride + dilated(kernel[axis], dilations[axis]) - size).max(0);
            let small = total / 2;
            if auto_pad == AutoPad::SameLower {
                (total - small, small)
            } else {
                (small, total - small)
            }
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Activation;

    fn attrs(auto_pad: AutoPad) -> ConvAttrs {
        ConvAttrs {
            kernel_shape: vec![],
            strides: vec![2, 2],
            pads: vec![],
            dilations: vec![],
            group: 1,
            auto_pad,
            activation: Activation::Identity,
        }
    }

    #[test]
    fn same_padding_puts_the_odd_pad_where_asked() {
        // 5 wide, stride 2 → 3 outputs; (3 − 1)·2 + 3 − 5 = 2 pads, split 1 + 1. 6 wide → 3
        // outputs, 1 pad: at the end (upper) or the beginning (lower).
        let upper = ConvGeometry::forward(&attrs(AutoPad::SameUpper), &[1, 1, 5, 6], &[1, 1, 3, 3]);
        let upper = upper.unwrap();
        assert_eq!((upper.pads_begin, upper.pads_end), (vec![1, 0], vec![1, 1]));
        assert_eq!(upper.output, vec![3, 3]);
        let lower = ConvGeometry::forward(&attrs(AutoPad::SameLower), &[1, 1, 5, 6], &[1, 1, 3, 3]);
        assert_eq!(lower.unwrap().pads_begin, vec![1, 1]);
        let valid = ConvGeometry::forward(&attrs(AutoPad::Valid), &[1, 1, 5, 6], &[1, 1, 3, 3]);
        assert_eq!(valid.unwrap().output, vec![2, 2]);
    }

    #[test]
    fn transposed_output_shape_sets_signed_pads() {
        // Full output 3·(3 − 1) + 3 = 9 rows, 2·(3 − 1) + 3 = 7 columns; asking for 10 × 8 pads
        // by −1 at the end of each axis.
        let transpose = ConvTransposeAttrs {
            conv: ConvAttrs {
                strides: vec![3, 2],
                ..attrs(AutoPad::NotSet)
            },
            output_padding: vec![],
            output_shape: vec![10, 8],
        };
        let geometry = ConvGeometry::transposed(&transpose, &[1, 1, 3, 3], &[1, 2, 3, 3]).unwrap();
        assert_eq!(geometry.output, vec![10, 8]);
        assert_eq!(
            (geometry.pads_begin, geometry.pads_end),
            (vec![0, 0], vec![-1, -1])
        );
        assert_eq!(geometry.out_channels, 2);
        let same = ConvTransposeAttrs {
            conv: attrs(AutoPad::SameUpper),
            output_padding: vec![],
            output_shape: vec![],
        };
        let geometry = ConvGeometry::transposed(&same, &[1, 1, 3, 3], &[1, 2, 3, 3]).unwrap();
        assert_eq!(geometry.output, vec![6, 6]);
        assert_eq!(geometry.pads_begin, vec![0, 0]);
    }

    #[test]
    fn bad_geometry_is_an_error() {
        let plain = attrs(AutoPad::NotSet);
        assert!(ConvGeometry::forward(&plain, &[1, 1, 2, 2], &[1, 1, 3, 3]).is_err());
        assert!(ConvGeometry::forward(&plain, &[1, 2, 5, 5], &[1, 1, 3, 3]).is_err());
        assert!(ConvGeometry::forward(&plain, &[1, 1, 5], &[1, 1, 3, 3]).is_err());
        let huge = ConvAttrs {
            strides: vec![usize::MAX, 1],
            ..plain.clone()
        };
        assert!(ConvGeometry::forward(&huge, &[1, 1, 5, 5], &[1, 1, 3, 3]).is_err());
        let wrong_kernel = ConvAttrs {
            kernel_shape: vec![2, 2],
            ..plain
        };
        assert!(ConvGeometry::forward(&wrong_kernel, &[1, 1, 5, 5], &[1, 1, 3, 3]).is_err());
    }
}
