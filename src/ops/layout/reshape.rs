//! The metadata-only layout ops: Reshape (with ONNX's 0 and −1), Flatten, Squeeze and Unsqueeze
//! compute a new shape and relabel the tensor's buffer, copying nothing.

use crate::error::{Error, Result};
use crate::tensor::shape::normalize_axis;
use crate::tensor::{element_count, GpuTensor};

/// ONNX Reshape's target shape: `-1` (at most once) is inferred from the element count; `0`
/// copies the input's extent at that index, or with `allow_zero` means an extent of 0 (and then
/// `-1` may not appear too).
pub fn reshape_shape(input: &[usize], spec: &[i64], allow_zero: bool) -> Result<Vec<usize>> {
    let op = "reshape";
    let invalid = |detail: String| Error::InvalidArgument { op, detail };
    let inferred: Vec<usize> = (0..spec.len()).filter(|&i| spec[i] == -1).collect();
    if inferred.len() > 1 {
        return Err(invalid(format!("{spec:?} has more than one -1")));
    }
    if allow_zero && !inferred.is_empty() && spec.contains(&0) {
        return Err(invalid(format!(
            "{spec:?} has both 0 and -1 with allowzero"
        )));
    }
    let mut shape = Vec::with_capacity(spec.len());
    for (index, &dim) in spec.iter().enumerate() {
        shape.push(match dim {
            0 if !allow_zero => *input.get(index).ok_or_else(|| {
                invalid(format!(
                    "{spec:?} copies axis {index}, beyond the input's rank"
                ))
            })?,
            -1 => 1,
            dim if dim >= 0 => dim as usize,
            dim => return Err(invalid(format!("{spec:?} has the negative extent {dim}"))),
        });
    }
    let count = element_count(input)?;
    let known = element_count(&shape)?;
    if let Some(&index) = inferred.first() {
        if known == 0 || count % known != 0 {
            return Err(Error::ShapeMismatch {
                op,
                detail: format!("cannot infer -1 in {spec:?} for {count} elements of {input:?}"),
            });
        }
        shape[index] = count / known;
    } else if known != count {
        return Err(Error::ShapeMismatch {
            op,
            detail: format!("{spec:?} holds {known} elements, the input {input:?} has {count}"),
        });
    }
    Ok(shape)
}

/// ONNX Flatten's shape: `[product of axes before axis, product of the rest]`, `axis` in
/// `[-rank, rank]`.
pub fn flatten_shape(input: &[usize], axis: i64) -> Result<Vec<usize>> {
    let rank = input.len() as i64;
    if !(-rank..=rank).contains(&axis) {
        return Err(Error::InvalidArgument {
            op: "flatten",
            detail: format!("axis {axis} is out of range [-{rank}, {rank}]"),
        });
    }
    let axis = if axis < 0 { axis + rank } else { axis } as usize;
    Ok(vec![
        input[..axis].iter().product(),
        input[axis..].iter().product(),
    ])
}

/// ONNX Squeeze's shape: drops `axes` (each must have extent 1), or every extent-1 axis.
pub fn squeeze_shape(input: &[usize], axes: Option<&[i64]>) -> Result<Vec<usize>> {
    let Some(axes) = axes else {
        return Ok(input.iter().copied().filter(|&dim| dim != 1).collect());
    };
    let mut drop = vec![false; input.len()];
    for &axis in axes {
        let axis = normalize_axis("squeeze", axis, input.len())?;
        if input[axis] != 1 || std::mem::replace(&mut drop[axis], true) {
            return Err(Error::InvalidArgument {
                op: "squeeze",
                detail: format!("cannot squeeze axes {axes:?} of {input:?}"),
            });
        }
    }
    Ok(input
        .iter()
        .zip(drop)
        .filter(|(_, dropped)| !dropped)
        .map(|(&dim, _)| dim)
        .collect())
}

/// ONNX Unsqueeze's shape: inserts extent-1 axes at `axes`, positions in the output's rank.
pub fn unsqueeze_shape(input: &[usize], axes: &[i64]) -> Result<Vec<usize>> {
    let rank = input.len() + axes.len();
    let mut inserted = vec![false; rank];
    for &axis in axes {
        let axis = normalize_axis("unsqueeze", axis, rank)?;
        if std::mem::replace(&mut inserted[axis], true) {
            return Err(Error::InvalidArgument {
                op: "unsqueeze",
                detail: format!("axes {axes:?} repeat an axis"),
            });
        }
    }
    let mut dims = input.iter();
    Ok(inserted
        .into_iter()
        .map(|new| {
            if new {
                1
            } else {
                *dims.next().expect("counted")
            }
        })
        .collect())
}

/// Reshape: the same buffer under [`reshape_shape`]`(shape, spec, allow_zero)`.
pub fn reshape(tensor: GpuTensor, spec: &[i64], allow_zero: bool) -> Result<GpuTensor> {
    let shape = reshape_shape(tensor.shape(), spec, allow_zero)?;
    tensor.reshape(&shape)
}

/// Flatten: the same buffer under [`flatten_shape`].
pub fn flatten(tensor: GpuTensor, axis: i64) -> Result<GpuTensor> {
    let shape = flatten_shape(tensor.shape(), axis)?;
    tensor.reshape(&shape)
}

/// Squeeze: the same buffer under [`squeeze_shape`].
pub fn squeeze(tensor: GpuTensor, axes: Option<&[i64]>) -> Result<GpuTensor> {
    let shape = squeeze_shape(tensor.shape(), axes)?;
    tensor.reshape(&shape)
}

/// Unsqueeze: the same buffer under [`unsqueeze_shape`].
pub fn unsqueeze(tensor: GpuTensor, axes: &[i64]) -> Result<GpuTensor> {
    let shape = unsqueeze_shape(tensor.shape(), axes)?;
    tensor.reshape(&shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_follows_onnx_zero_and_minus_one() {
        assert_eq!(reshape_shape(&[2, 3, 4], &[0, -1], false).unwrap(), [2, 12]);
        assert_eq!(
            reshape_shape(&[2, 3, 4], &[4, 0, 2], false).unwrap(),
            [4, 3, 2]
        );
        assert_eq!(reshape_shape(&[0, 3], &[3, 0], true).unwrap(), [3, 0]);
        assert!(reshape_shape(&[2, 3], &[], false).is_err());
        assert!(matches!(
            reshape_shape(&[2, 3, 4], &[5, -1], false),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            reshape_shape(&[2, 3, 4], &[-1, -1], false),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(reshape_shape(&[2, 3], &[0, 0, 0], false).is_err());
        assert!(reshape_shape(&[0, 3], &[0, -1], true).is_err());
        assert_eq!(
            reshape_shape(&[1], &[], false).unwrap(),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn flatten_squeeze_unsqueeze_shapes() {
        assert_eq!(flatten_shape(&[2, 3, 4], 0).unwrap(), [1, 24]);
        assert_eq!(flatten_shape(&[2, 3, 4], 3).unwrap(), [24, 1]);
        assert_eq!(flatten_shape(&[2, 3, 4], -1).unwrap(), [6, 4]);
        assert!(flatten_shape(&[2, 3, 4], 4).is_err());
        assert!(flatten_shape(&[2, 3, 4], -4).is_err());
        assert_eq!(squeeze_shape(&[1, 3, 1, 2], None).unwrap(), [3, 2]);
        assert_eq!(
            squeeze_shape(&[1, 3, 1, 2], Some(&[-2])).unwrap(),
            [1, 3, 2]
        );
        assert!(squeeze_shape(&[1, 3], Some(&[1])).is_err());
        assert_eq!(unsqueeze_shape(&[3, 4], &[0, -1]).unwrap(), [1, 3, 4, 1]);
        assert_eq!(unsqueeze_shape(&[3, 4], &[1, 3]).unwrap(), [3, 1, 4, 1]);
        assert!(unsqueeze_shape(&[3], &[0, 0]).is_err());
    }
}
