//! The one geometry resolver of convolutions and pools over any number of spatial axes, as ONNX
//! states it: empty attribute lists take their defaults from the spatial rank, `auto_pad`
//! computes the pads from the input shape, and ConvTranspose's `output_shape` sets its pads
//! (possibly negative, which extends the output instead of cropping it, as ONNX's reference
//! does). Shape inference, the CPU reference and the GPU launchers all resolve through here; the
//! graph layer turns its attribute types into the plain [`ConvSpec`] / [`TransposeSpec`].

use crate::error::{Error, Result};

/// The largest kernel extent, stride, dilation or pad the resolver takes (2³⁰): far beyond any
/// real model, and small enough that every product of two of them fits an `i64`.
pub const MAX_EXTENT: usize = 1 << 30;

/// How a convolution or pool pads when the model asks the runtime to choose (`auto_pad`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum AutoPad {
    /// Use the explicit `pads`.
    #[default]
    NotSet,
    /// Pad so that `out = ceil(in / stride)`, the extra pad at the end.
    SameUpper,
    /// Pad so that `out = ceil(in / stride)`, the extra pad at the beginning.
    SameLower,
    /// No padding.
    Valid,
}

/// A convolution's attributes as plain per-axis lists (ONNX `Conv`, `QLinearConv`); an empty
/// list takes ONNX's default (strides and dilations 1, pads 0, kernel from the weight).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvSpec<'a> {
    /// Kernel extent per spatial axis; must equal the weight's when given.
    pub kernel_shape: &'a [usize],
    /// Stride per spatial axis.
    pub strides: &'a [usize],
    /// Begin pads then end pads, per spatial axis.
    pub pads: &'a [usize],
    /// Dilation per spatial axis.
    pub dilations: &'a [usize],
    /// Channel groups.
    pub group: usize,
    /// How the pads are chosen.
    pub auto_pad: AutoPad,
}

/// ConvTranspose's attributes: the convolution's plus the output padding and shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransposeSpec<'a> {
    /// The shared convolution attributes.
    pub conv: ConvSpec<'a>,
    /// Extra extent added at the end of each output axis (empty: zeros).
    pub output_padding: &'a [usize],
    /// The output's spatial extents, optionally after N and C (empty: from the pads).
    pub output_shape: &'a [usize],
}

/// A convolution's resolved geometry over `s` spatial axes.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvGeometry {
    /// Kernel extent per spatial axis (the weight's).
    pub kernel: Vec<usize>,
    /// Stride per spatial axis.
    pub strides: Vec<usize>,
    /// Dilation per spatial axis.
    pub dilations: Vec<usize>,
    /// Begin pads per spatial axis (negative only for a transposed `output_shape`).
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
    pub fn forward(spec: &ConvSpec, x: &[usize], w: &[usize]) -> Result<Self> {
        let (spatial, kernel) = split_shapes(spec, x, w)?;
        let group = spec.group;
        if !w[0].is_multiple_of(group) || w[1].checked_mul(group) != Some(x[1]) {
            return Err(shape_error(format!(
                "weight {w:?} must be [M, C / group, ...] with group {group} dividing M, for \
                 input {x:?}"
            )));
        }
        let rank = spatial.len();
        let strides = axis_values("strides", spec.strides, rank, 1)?;
        let dilations = axis_values("dilations", spec.dilations, rank, 1)?;
        let pads = resolve_auto_pads(
            spec.auto_pad,
            spatial,
            &kernel,
            &strides,
            &dilations,
            spec.pads,
        )?;
        let mut output = Vec::with_capacity(rank);
        for axis in 0..rank {
            let padded = (spatial[axis] + pads[axis] + pads[axis + rank]) as i64;
            let extent = dilated(kernel[axis], dilations[axis]);
            if extent > padded {
                return Err(invalid(format!(
                    "the dilated kernel spans {extent} on spatial axis {axis}, more than the \
                     padded input's {padded}"
                )));
            }
            output.push(((padded - extent) / strides[axis] as i64 + 1) as usize);
        }
        let signed: Vec<i64> = pads.iter().map(|&pad| pad as i64).collect();
        Ok(ConvGeometry {
            kernel,
            strides,
            dilations,
            pads_begin: signed[..rank].to_vec(),
            pads_end: signed[rank..].to_vec(),
            group,
            out_channels: w[0],
            output,
        })
    }

    /// ConvTranspose: `x` is `[N, C, spatial…]`, `w` is `[C, M / group, kernel…]`. The full
    /// output extent is `stride·(in − 1) + output_padding + dilation·(k − 1) + 1`; the pads crop
    /// it, and come from `output_shape` (or, with `SAME_*`, from `in · stride`) when given.
    pub fn transposed(spec: &TransposeSpec, x: &[usize], w: &[usize]) -> Result<Self> {
        let conv = &spec.conv;
        let (spatial, kernel) = split_shapes(conv, x, w)?;
        let group = conv.group;
        if w[0] != x[1] || !x[1].is_multiple_of(group) {
            return Err(shape_error(format!(
                "weight {w:?} must be [C, M / group, ...] with group {group} dividing C, for \
                 input {x:?}"
            )));
        }
        let rank = spatial.len();
        let strides = axis_values("strides", conv.strides, rank, 1)?;
        let dilations = axis_values("dilations", conv.dilations, rank, 1)?;
        let output_padding = axis_values("output_padding", spec.output_padding, rank, 0)?;
        let full: Vec<i64> = (0..rank)
            .map(|axis| {
                (strides[axis] * (spatial[axis] - 1) + output_padding[axis]) as i64
                    + dilated(kernel[axis], dilations[axis])
            })
            .collect();
        let (pads_begin, pads_end) = transposed_pads(spec, spatial, &strides, &full)?;
        let mut output = Vec::with_capacity(rank);
        for axis in 0..rank {
            let extent = full[axis] - pads_begin[axis] - pads_end[axis];
            if extent < 1 {
                return Err(invalid(format!(
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

    /// The pads in ONNX order (all begins, then all ends) as unsigned values, when none is
    /// negative.
    pub fn unsigned_pads(&self) -> Option<Vec<usize>> {
        self.pads_begin
            .iter()
            .chain(&self.pads_end)
            .map(|&pad| usize::try_from(pad).ok())
            .collect()
    }

    /// The output shape `[N, M, spatial…]` for `batch` images.
    pub fn output_shape(&self, batch: usize) -> Vec<usize> {
        [&[batch, self.out_channels], &self.output[..]].concat()
    }
}

/// The explicit pads (all begins, then all ends) of a convolution or pool over the spatial
/// extents `input` with window `kernel`: `pads` itself for [`AutoPad::NotSet`] (empty: zeros),
/// zeros for `Valid`, and for `SameUpper` / `SameLower` the total `(ceil(in / stride) − 1)·stride
/// + (kernel − 1)·dilation + 1 − in` (at least 0) split evenly, the odd one at the end (upper) or
///   the beginning (lower). Empty strides and dilations are ones.
pub fn resolve_auto_pads(
    auto_pad: AutoPad,
    input: &[usize],
    kernel: &[usize],
    strides: &[usize],
    dilations: &[usize],
    pads: &[usize],
) -> Result<Vec<usize>> {
    let rank = input.len();
    let kernel = axis_values("kernel_shape", kernel, rank, 1)?;
    let strides = axis_values("strides", strides, rank, 1)?;
    let dilations = axis_values("dilations", dilations, rank, 1)?;
    let mut resolved = vec![0; 2 * rank];
    match auto_pad {
        AutoPad::NotSet => return axis_values("pads", pads, 2 * rank, 0),
        AutoPad::Valid => return Ok(resolved),
        AutoPad::SameUpper | AutoPad::SameLower => {}
    }
    for axis in 0..rank {
        let output = input[axis].div_ceil(strides[axis]);
        let extent = (kernel[axis] - 1) * dilations[axis] + 1;
        let total = (output.saturating_sub(1) * strides[axis] + extent).saturating_sub(input[axis]);
        let (small, large) = (total / 2, total - total / 2);
        let (begin, end) = if auto_pad == AutoPad::SameLower {
            (large, small)
        } else {
            (small, large)
        };
        resolved[axis] = begin;
        resolved[axis + rank] = end;
    }
    Ok(resolved)
}

/// An attribute list with one entry per spatial axis (empty: `default` everywhere); with
/// `default` 1 (strides, dilations, kernels) every entry must be ≥ 1, and every entry at most
/// [`MAX_EXTENT`].
pub fn axis_values(name: &str, list: &[usize], count: usize, default: usize) -> Result<Vec<usize>> {
    let values = if list.is_empty() {
        vec![default; count]
    } else {
        list.to_vec()
    };
    let at_least = usize::from(default == 1);
    if values.len() != count || values.iter().any(|&v| v < at_least || v > MAX_EXTENT) {
        return Err(invalid(format!(
            "{name} {list:?} must hold {count} values in [{at_least}, {MAX_EXTENT}]"
        )));
    }
    Ok(values)
}

/// ConvTranspose's pads: from the output extents asked for (`output_shape`, or `in · stride`
/// with `SAME_*`) as ONNX's reference splits the excess `full − target` (floor division, so a
/// negative excess puts its odd unit at the end), else `VALID`'s zeros or the explicit pads.
fn transposed_pads(
    spec: &TransposeSpec,
    spatial: &[usize],
    strides: &[usize],
    full: &[i64],
) -> Result<(Vec<i64>, Vec<i64>)> {
    let (rank, auto_pad) = (spatial.len(), spec.conv.auto_pad);
    let target: Vec<i64> = match (spec.output_shape.len(), auto_pad) {
        (0, AutoPad::SameUpper | AutoPad::SameLower) => (0..rank)
            .map(|axis| (spatial[axis] * strides[axis]) as i64)
            .collect(),
        (0, AutoPad::Valid) => return Ok((vec![0; rank], vec![0; rank])),
        (0, _) => {
            let pads = axis_values("pads", spec.conv.pads, 2 * rank, 0)?;
            let signed: Vec<i64> = pads.iter().map(|&pad| pad as i64).collect();
            return Ok((signed[..rank].to_vec(), signed[rank..].to_vec()));
        }
        (len, _) if len == rank || len == rank + 2 => {
            let given = axis_values("output_shape", &spec.output_shape[len - rank..], rank, 0)?;
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
    spec: &ConvSpec,
    x: &'x [usize],
    w: &[usize],
) -> Result<(&'x [usize], Vec<usize>)> {
    if x.len() < 3 || w.len() != x.len() {
        return Err(shape_error(format!(
            "input must be [N, C, spatial...] and the weight of the same rank, got {x:?} and {w:?}"
        )));
    }
    if x[1..].contains(&0) || w.contains(&0) {
        return Err(invalid(format!(
            "channels, spatial extents and weight extents must be ≥ 1, got {x:?} and {w:?}"
        )));
    }
    let kernel = w[2..].to_vec();
    if !spec.kernel_shape.is_empty() && spec.kernel_shape != kernel {
        return Err(invalid(format!(
            "kernel_shape {:?} differs from the weight's {kernel:?}",
            spec.kernel_shape
        )));
    }
    if spec.group == 0 || kernel.iter().any(|&k| k > MAX_EXTENT) {
        return Err(invalid(format!(
            "group {} and kernel {kernel:?} are out of range",
            spec.group
        )));
    }
    Ok((&x[2..], kernel))
}

fn shape_error(detail: String) -> Error {
    Error::ShapeMismatch {
        op: "conv geometry",
        detail,
    }
}

fn invalid(detail: String) -> Error {
    Error::InvalidArgument {
        op: "conv geometry",
        detail,
    }
}
