//! The layout references: plain index arithmetic over any element type, the specification the
//! GPU gather must reproduce bit for bit.

use crate::ops::layout::spec::{PadMode, SliceAxis};
use crate::tensor::shape::strides;

/// Calls `visit` with every multi-index of `shape`, in row-major order.
fn for_each_index(shape: &[usize], mut visit: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut index = vec![0; shape.len()];
    loop {
        visit(&index);
        let mut axis = shape.len();
        loop {
            if axis == 0 {
                return;
            }
            axis -= 1;
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
}

/// Transpose: output axis `j` is input axis `perm[j]`.
pub fn reference_transpose<T: Copy>(input: &[T], shape: &[usize], perm: &[usize]) -> Vec<T> {
    let in_strides = strides(shape);
    let out_shape: Vec<usize> = perm.iter().map(|&axis| shape[axis]).collect();
    let mut output = Vec::with_capacity(input.len());
    for_each_index(&out_shape, |index| {
        let source: usize = index
            .iter()
            .zip(perm)
            .map(|(&i, &axis)| i * in_strides[axis])
            .sum();
        output.push(input[source]);
    });
    output
}

/// Slice with resolved axes ([`resolve_slice`](super::resolve_slice)).
pub fn reference_slice<T: Copy>(input: &[T], shape: &[usize], axes: &[SliceAxis]) -> Vec<T> {
    let in_strides = strides(shape);
    let out_shape: Vec<usize> = axes.iter().map(|axis| axis.count).collect();
    let mut output = Vec::new();
    for_each_index(&out_shape, |index| {
        let source: i64 = index
            .iter()
            .zip(axes)
            .zip(&in_strides)
            .map(|((&i, axis), &stride)| (axis.start + i as i64 * axis.step) * stride as i64)
            .sum();
        output.push(input[source as usize]);
    });
    output
}

/// Concat along `axis` of `inputs` (each with its shape).
pub fn reference_concat<T: Copy>(inputs: &[(&[T], &[usize])], axis: usize) -> Vec<T> {
    let outer: usize = inputs
        .first()
        .map_or(0, |(_, shape)| shape[..axis].iter().product());
    let mut output = Vec::new();
    for block in 0..outer {
        for (data, shape) in inputs {
            let run: usize = shape[axis..].iter().product();
            output.extend_from_slice(&data[block * run..(block + 1) * run]);
        }
    }
    output
}

/// Pad with `(begin, end)` per axis (negative crops) and `mode`; `fill` is the constant.
pub fn reference_pad<T: Copy>(
    input: &[T],
    shape: &[usize],
    pads: &[(i64, i64)],
    mode: PadMode,
    fill: T,
) -> Vec<T> {
    let in_strides = strides(shape);
    let out_shape: Vec<usize> = shape
        .iter()
        .zip(pads)
        .map(|(&dim, &(begin, end))| (dim as i64 + begin + end) as usize)
        .collect();
    let mut output = Vec::new();
    for_each_index(&out_shape, |index| {
        let mut source = 0usize;
        for (axis, &i) in index.iter().enumerate() {
            let dim = shape[axis] as i64;
            let mut at = i as i64 - pads[axis].0;
            if !(0..dim).contains(&at) {
                at = match mode {
                    PadMode::Constant(_) => {
                        output.push(fill);
                        return;
                    }
                    PadMode::Edge => at.clamp(0, dim - 1),
                    PadMode::Reflect if at < 0 => -at,
                    PadMode::Reflect => 2 * (dim - 1) - at,
                    PadMode::Wrap => at.rem_euclid(dim),
                };
            }
            source += at as usize * in_strides[axis];
        }
        output.push(input[source]);
    });
    output
}
