//! The argument rules of the layout ops, as ONNX states them: Slice's start/end normalisation,
//! Transpose's permutation, Pad's pads and modes, Concat's and Split's shape checks. The CPU
//! references and the GPU launchers both start from these, so an argument means one thing.

use crate::error::{Error, Result};
use crate::tensor::shape::normalize_axis;

/// How Pad fills the new border.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum PadMode {
    /// Every new element is this value (converted to the tensor's dtype: integers saturate).
    Constant(#[serde(with = "crate::tensor::serde_repr::float64")] f64),
    /// The mirror image of the input, not repeating the edge (`[1 2 3]` pads to `… 3 2 [1 2 3] 2 1 …`);
    /// each pad must be smaller than its axis.
    Reflect,
    /// Copies of the edge element.
    Edge,
    /// The input repeated periodically (ONNX 19 `wrap`).
    Wrap,
}

/// One axis of a resolved Slice: the output reads input positions `start + i·step`, `i < count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SliceAxis {
    /// First input position read (meaningless when `count` is 0).
    pub start: i64,
    /// Distance between positions read; never 0.
    pub step: i64,
    /// Output extent.
    pub count: usize,
}

/// Resolves ONNX Slice arguments over `shape`: `axes` defaults to `0..starts.len()` and `steps` to
/// 1; negative starts/ends count from the end; then, for a positive step, start and end are
/// clamped to `[0, dim]`, for a negative step to `[0, dim − 1]` and `[−1, dim − 1]`; the count is
/// `max(0, ceil((end − start) / step))`. Axes not named keep their whole extent.
pub fn resolve_slice(
    shape: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<Vec<SliceAxis>> {
    let op = "slice";
    let invalid = |detail: String| Error::InvalidArgument { op, detail };
    let default_axes: Vec<i64> = (0..starts.len() as i64).collect();
    let axes = axes.unwrap_or(&default_axes);
    let ones = vec![1; starts.len()];
    let steps = steps.unwrap_or(&ones);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(invalid(format!(
            "starts ({}), ends ({}), axes ({}) and steps ({}) must have the same length",
            starts.len(),
            ends.len(),
            axes.len(),
            steps.len()
        )));
    }
    let mut resolved: Vec<Option<SliceAxis>> = vec![None; shape.len()];
    for index in 0..starts.len() {
        let axis = normalize_axis(op, axes[index], shape.len())?;
        if resolved[axis].is_some() {
            return Err(invalid(format!(
                "axis {} appears twice in {axes:?}",
                axes[index]
            )));
        }
        let step = steps[index];
        if step == 0 {
            return Err(invalid(format!("step 0 on axis {axis}")));
        }
        let dim = shape[axis] as i64;
        let from_end = |value: i64| {
            if value < 0 {
                value.saturating_add(dim)
            } else {
                value
            }
        };
        let (start, end) = if step > 0 {
            (
                from_end(starts[index]).clamp(0, dim),
                from_end(ends[index]).clamp(0, dim),
            )
        } else {
            (
                from_end(starts[index]).clamp(0, (dim - 1).max(0)),
                from_end(ends[index]).clamp(-1, dim - 1),
            )
        };
        let span = end - start;
        let count = if (span > 0) == (step > 0) && span != 0 {
            ((span.abs() + step.abs() - 1) / step.abs()) as usize
        } else {
            0
        };
        resolved[axis] = Some(SliceAxis { start, step, count });
    }
    Ok(resolved
        .into_iter()
        .zip(shape)
        .map(|(axis, &dim)| {
            axis.unwrap_or(SliceAxis {
                start: 0,
                step: 1,
                count: dim,
            })
        })
        .collect())
}

/// Checks that `perm` is a permutation of `0..rank`; `None` means the reversed axes.
pub fn resolve_perm(rank: usize, perm: Option<&[usize]>) -> Result<Vec<usize>> {
    let Some(perm) = perm else {
        return Ok((0..rank).rev().collect());
    };
    let mut seen = vec![false; rank];
    for &axis in perm {
        if axis >= rank || std::mem::replace(&mut seen[axis], true) {
            return Err(Error::InvalidArgument {
                op: "transpose",
                detail: format!("perm {perm:?} is not a permutation of 0..{rank}"),
            });
        }
    }
    if perm.len() != rank {
        return Err(Error::InvalidArgument {
            op: "transpose",
            detail: format!("perm {perm:?} has {} axes, the tensor {rank}", perm.len()),
        });
    }
    Ok(perm.to_vec())
}

/// Pad's arguments, checked: the `(begin, end)` pair of every axis and the output shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedPads {
    /// `(begin, end)` per axis; negative crops.
    pub pairs: Vec<(i64, i64)>,
    /// The padded shape.
    pub out_shape: Vec<usize>,
}

/// Checks ONNX `pads` (`[begin of every axis…, end of every axis…]`, negative crops) against
/// `shape` and `mode`.
pub fn resolve_pads(shape: &[usize], pads: &[i64], mode: PadMode) -> Result<ResolvedPads> {
    let op = "pad";
    let rank = shape.len();
    if pads.len() != 2 * rank {
        return Err(Error::InvalidArgument {
            op,
            detail: format!("pads {pads:?} must hold 2 × rank = {} values", 2 * rank),
        });
    }
    let mut pairs = Vec::with_capacity(rank);
    let mut out_shape = Vec::with_capacity(rank);
    for (axis, &dim) in shape.iter().enumerate() {
        let (begin, end) = (pads[axis], pads[axis + rank]);
        let dim_i = dim as i64;
        let extent = dim_i + begin + end;
        let padding = begin.max(0).max(end.max(0));
        let limit = match mode {
            PadMode::Constant(_) => i64::MAX,
            PadMode::Reflect => (dim_i - 1).max(0),
            PadMode::Edge | PadMode::Wrap => {
                if dim == 0 {
                    0
                } else {
                    i64::MAX
                }
            }
        };
        if extent < 0 || padding > limit || begin < -dim_i || end < -dim_i {
            return Err(Error::InvalidArgument {
                op,
                detail: format!(
                    "pads ({begin}, {end}) do not fit axis {axis} of size {dim} in mode {mode:?}"
                ),
            });
        }
        pairs.push((begin, end));
        out_shape.push(extent as usize);
    }
    Ok(ResolvedPads { pairs, out_shape })
}

/// The output shape of concatenating `shapes` along `axis` (negative counts from the end): equal
/// ranks, equal extents except along `axis`.
pub fn concat_shape(shapes: &[&[usize]], axis: i64) -> Result<(usize, Vec<usize>)> {
    let op = "concat";
    let first = shapes.first().ok_or_else(|| Error::InvalidArgument {
        op,
        detail: "needs at least one input".into(),
    })?;
    let axis = normalize_axis(op, axis, first.len())?;
    let mut out = first.to_vec();
    out[axis] = 0;
    for shape in shapes {
        let compatible = shape.len() == first.len()
            && shape
                .iter()
                .zip(first.iter())
                .enumerate()
                .all(|(i, (a, b))| i == axis || a == b);
        if !compatible {
            return Err(Error::ShapeMismatch {
                op,
                detail: format!(
                    "{shape:?} cannot be concatenated with {first:?} along axis {axis}"
                ),
            });
        }
        out[axis] += shape[axis];
    }
    Ok((axis, out))
}

/// Checks that `sizes` split `shape` along `axis` exactly, returning the normalised axis.
pub fn check_split(shape: &[usize], axis: i64, sizes: &[usize]) -> Result<usize> {
    let axis = normalize_axis("split", axis, shape.len())?;
    if sizes.iter().sum::<usize>() != shape[axis] {
        return Err(Error::ShapeMismatch {
            op: "split",
            detail: format!(
                "sizes {sizes:?} do not add up to axis {axis}'s extent {} of {shape:?}",
                shape[axis]
            ),
        });
    }
    Ok(axis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(shape: &[usize], starts: &[i64], ends: &[i64], steps: &[i64]) -> Vec<(i64, usize)> {
        resolve_slice(shape, starts, ends, None, Some(steps))
            .unwrap()
            .iter()
            .map(|axis| (axis.start, axis.count))
            .collect()
    }

    #[test]
    fn slice_follows_onnx_clamping() {
        // ONNX examples: slice_neg_steps, slice_end_out_of_bounds, slice_start_out_of_bounds.
        assert_eq!(
            counts(&[20, 10, 5], &[20, 10, 4], &[0, 0, 1], &[-1, -3, -2]),
            [(19, 19), (9, 3), (4, 2)]
        );
        assert_eq!(counts(&[20], &[1], &[1000], &[1]), [(1, 19)]);
        assert_eq!(counts(&[20], &[1000], &[1000], &[1]), [(20, 0)]);
        assert_eq!(counts(&[10], &[-1], &[i64::MIN], &[-1]), [(9, 10)]);
        assert_eq!(counts(&[10], &[i64::MAX], &[-100], &[-3]), [(9, 4)]);
        assert_eq!(counts(&[4], &[-2], &[-1], &[1]), [(2, 1)]);
        assert!(resolve_slice(&[4], &[0], &[1], None, Some(&[0])).is_err());
        assert!(resolve_slice(&[4, 4], &[0, 0], &[1, 1], Some(&[1, -1]), None).is_err());
    }

    #[test]
    fn perms_pads_and_concat_shapes_are_checked() {
        assert_eq!(resolve_perm(3, None).unwrap(), [2, 1, 0]);
        assert!(resolve_perm(3, Some(&[0, 0, 1])).is_err());
        assert!(resolve_perm(3, Some(&[0, 1])).is_err());
        let resolved = resolve_pads(&[3, 4], &[1, -1, 2, 0], PadMode::Edge).unwrap();
        assert_eq!(resolved.pairs, [(1, 2), (-1, 0)]);
        assert_eq!(resolved.out_shape, [6, 3]);
        assert!(resolve_pads(&[3], &[3, 0], PadMode::Reflect).is_err());
        assert!(resolve_pads(&[3], &[-4, 0], PadMode::Constant(0.0)).is_err());
        assert_eq!(
            concat_shape(&[&[2, 3], &[2, 5]], -1).unwrap(),
            (1, vec![2, 8])
        );
        assert!(concat_shape(&[&[2, 3], &[3, 5]], 1).is_err());
        assert!(check_split(&[6, 2], 0, &[2, 3]).is_err());
    }
}
