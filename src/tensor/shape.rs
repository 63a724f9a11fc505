//! Shape arithmetic shared by the ops: row-major strides, numpy broadcasting, ONNX axis
//! normalisation.

use crate::error::{Error, Result};

/// Row-major strides (in elements) of `shape`: the last dimension has stride 1.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for axis in (0..shape.len().saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * shape[axis + 1];
    }
    strides
}

/// The numpy broadcast of two shapes: aligned at the last dimension, each pair equal or one of
/// them 1. `op` names the operation in the error.
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |shape: &[usize], axis: usize| {
        let offset = rank - shape.len();
        if axis < offset {
            1
        } else {
            shape[axis - offset]
        }
    };
    (0..rank)
        .map(|axis| match (dim(a, axis), dim(b, axis)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            (x, y) => Err(Error::ShapeMismatch {
                op,
                detail: format!(
                    "shapes {a:?} and {b:?} do not broadcast (axis {axis}: {x} vs {y})"
                ),
            }),
        })
        .collect()
}

/// Strides for reading an input of `shape` broadcast to `output_rank` dimensions of `output`:
/// broadcast (size-1 or missing) dimensions get stride 0.
pub fn broadcast_strides(shape: &[usize], output: &[usize]) -> Vec<usize> {
    let own = strides(shape);
    let offset = output.len() - shape.len();
    (0..output.len())
        .map(|axis| {
            if axis < offset || shape[axis - offset] == 1 {
                0
            } else {
                own[axis - offset]
            }
        })
        .collect()
}

/// An ONNX axis (negative counts from the end) as an index into a shape of `rank` dimensions.
pub fn normalize_axis(op: &'static str, axis: i64, rank: usize) -> Result<usize> {
    let rank_i = rank as i64;
    let normalized = if axis < 0 { axis + rank_i } else { axis };
    if (0..rank_i).contains(&normalized) {
        Ok(normalized as usize)
    } else {
        Err(Error::InvalidArgument {
            op,
            detail: format!("axis {axis} is out of range for rank {rank}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_are_row_major() {
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(strides(&[]), Vec::<usize>::new());
        assert_eq!(strides(&[5]), vec![1]);
    }

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(
            broadcast_shapes("t", &[2, 1, 4], &[3, 1]).unwrap(),
            vec![2, 3, 4]
        );
        assert_eq!(broadcast_shapes("t", &[], &[3]).unwrap(), vec![3]);
        assert_eq!(broadcast_shapes("t", &[0, 1], &[1, 5]).unwrap(), vec![0, 5]);
        assert!(broadcast_shapes("t", &[2, 3], &[4, 3]).is_err());
        assert_eq!(broadcast_strides(&[3, 1], &[2, 3, 4]), vec![0, 1, 0]);
    }

    #[test]
    fn axes_normalize_or_fail() {
        assert_eq!(normalize_axis("t", -1, 4).unwrap(), 3);
        assert_eq!(normalize_axis("t", 0, 1).unwrap(), 0);
        assert!(normalize_axis("t", 4, 4).is_err());
        assert!(normalize_axis("t", -5, 4).is_err());
    }
}
