//! Numpy broadcasting as index tables: for the broadcast output shape of several inputs, the flat
//! offset into each input that every output element reads. The element-wise ops, Where, Expand
//! and MatMul's batch axes all gather through these tables.

use crate::error::Result;
use crate::graph::eval::args::{output_len, shape_error};
use crate::tensor::shape::{broadcast_shapes, broadcast_strides};

/// The numpy broadcast of `shapes` and, per input, the offset each output element reads.
pub(crate) fn broadcast_offsets(shapes: &[&[usize]]) -> Result<(Vec<usize>, Vec<Vec<usize>>)> {
    let shape = shapes
        .iter()
        .try_fold(Vec::new(), |output, shape| {
            broadcast_shapes("", &output, shape)
        })
        .map_err(|_| shape_error(format!("shapes {shapes:?} do not broadcast together")))?;
    let count = output_len(&shape)?;
    let offsets = shapes
        .iter()
        .map(|input| offsets_into(&shape, &broadcast_strides(input, &shape), count))
        .collect();
    Ok((shape, offsets))
}

/// The offset (`Σ index · stride`) of each of the `count` row-major multi-indices of `shape`.
fn offsets_into(shape: &[usize], strides: &[usize], count: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    let mut offset = 0;
    let mut offsets = Vec::with_capacity(count);
    for _ in 0..count {
        offsets.push(offset);
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            offset += strides[axis];
            if index[axis] < shape[axis] {
                break;
            }
            offset -= strides[axis] * shape[axis];
            index[axis] = 0;
        }
    }
    offsets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_repeat_broadcast_axes() {
        let (shape, offsets) = broadcast_offsets(&[&[2, 1], &[3]]).unwrap();
        assert_eq!(shape, vec![2, 3]);
        assert_eq!(offsets[0], vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(offsets[1], vec![0, 1, 2, 0, 1, 2]);
        let (scalar, offsets) = broadcast_offsets(&[&[], &[]]).unwrap();
        assert_eq!((scalar, offsets), (vec![], vec![vec![0], vec![0]]));
        let (empty, offsets) = broadcast_offsets(&[&[0, 2], &[1]]).unwrap();
        assert_eq!((empty, offsets[1].len()), (vec![0, 2], 0));
        assert!(broadcast_offsets(&[&[2], &[3]]).is_err());
        assert!(broadcast_offsets(&[&[1 << 20, 1], &[1 << 20]]).is_err());
    }
}
