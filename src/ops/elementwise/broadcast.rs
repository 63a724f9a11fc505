//! Broadcast plans: the output shape of several operands, and the coalesced shape and per-input
//! strides the element-wise kernels read (`BroadcastParams` in `shaders/elementwise_index.wgsl`).

use crate::device::{Binding, Gpu, GpuBuffer, OverrideConstant, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::shape::{broadcast_shapes, broadcast_strides};

/// The most axes a broadcast may have after coalescing (size-1 axes dropped, axes that every input
/// reads alike merged). Higher-rank tensors work when they coalesce to this many.
pub const MAX_RANK: usize = 8;

/// The most inputs one kernel reads (Where's three).
const MAX_INPUTS: usize = 3;

/// `BroadcastParams` in `elementwise_index.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct BroadcastParams {
    count: u32,
    rank: u32,
    pad: [u32; 2],
    out_shape: [u32; MAX_RANK],
    strides: [[u32; MAX_RANK]; MAX_INPUTS],
}

/// The numpy broadcast of every shape in `shapes`, or [`Error::ShapeMismatch`] naming `op`.
pub fn broadcast_output_shape(op: &'static str, shapes: &[&[usize]]) -> Result<Vec<usize>> {
    shapes.iter().try_fold(Vec::new(), |output, shape| {
        broadcast_shapes(op, &output, shape)
    })
}

/// The kernel parameters for reading `inputs` broadcast to `output`.
pub(crate) fn broadcast_params(output: &[usize], inputs: &[&[usize]]) -> Result<BroadcastParams> {
    let input_strides: Vec<Vec<usize>> = inputs
        .iter()
        .map(|shape| broadcast_strides(shape, output))
        .collect();
    // (size, stride per input) of each kept axis, outermost first.
    let mut axes: Vec<(usize, Vec<usize>)> = Vec::new();
    for (axis, &size) in output.iter().enumerate() {
        if size == 1 {
            continue;
        }
        let strides: Vec<usize> = input_strides.iter().map(|s| s[axis]).collect();
        if let Some((outer_size, outer_strides)) = axes.last_mut() {
            let mergeable = outer_strides
                .iter()
                .zip(&strides)
                .all(|(&outer, &inner)| outer == inner * size);
            if mergeable {
                *outer_size *= size;
                *outer_strides = strides;
                continue;
            }
        }
        axes.push((size, strides));
    }
    if axes.len() > MAX_RANK {
        return Err(Error::LimitExceeded {
            what: "axes of an element-wise broadcast after coalescing",
            requested: axes.len() as u64,
            limit: MAX_RANK as u64,
        });
    }
    let count: usize = output.iter().product();
    let mut params = BroadcastParams {
        count: to_u32("element-wise output elements", count)?,
        rank: axes.len() as u32,
        pad: [0; 2],
        out_shape: [1; MAX_RANK],
        strides: [[0; MAX_RANK]; MAX_INPUTS],
    };
    for (axis, (size, strides)) in axes.iter().enumerate() {
        params.out_shape[axis] = to_u32("element-wise axis size", *size)?;
        for (input, &stride) in strides.iter().enumerate() {
            params.strides[input][axis] = to_u32("element-wise stride", stride)?;
        }
    }
    Ok(params)
}

/// Records one element-wise dispatch: `params` at binding 0, `inputs` from binding 1, `output`
/// after them, one thread per output element.
pub(crate) fn launch_elementwise(
    gpu: &Gpu,
    program: &ShaderProgram,
    constants: &[OverrideConstant],
    params: &BroadcastParams,
    inputs: &[&GpuBuffer],
    output: &GpuBuffer,
) -> Result<()> {
    if params.count == 0 {
        return Ok(());
    }
    let pipeline = gpu.pipeline(program, constants)?;
    let mut bindings = vec![(0, Binding::Uniform(bytemuck::bytes_of(params)))];
    for (slot, input) in (1..).zip(inputs) {
        bindings.push((slot, Binding::Storage(input)));
    }
    bindings.push((inputs.len() as u32 + 1, Binding::Storage(output)));
    let grid = grid_for(gpu, params.count as usize, ELEMENTWISE_WORKGROUP)?;
    gpu.dispatch(&pipeline, &bindings, grid)
}

/// The flat offset into an input with `input_strides` (from `broadcast_strides`) of the output
/// element at flat `index` of `output`: the references' plain index arithmetic.
pub(crate) fn reference_offset(index: usize, output: &[usize], input_strides: &[usize]) -> usize {
    let mut rest = index;
    let mut offset = 0;
    for axis in (0..output.len()).rev() {
        offset += (rest % output[axis]) * input_strides[axis];
        rest /= output[axis];
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_shapes_coalesce_to_one_axis() {
        let params = broadcast_params(&[2, 3, 4], &[&[2, 3, 4], &[2, 3, 4]]).unwrap();
        assert_eq!(params.rank, 1);
        assert_eq!(params.out_shape[0], 24);
        assert_eq!((params.strides[0][0], params.strides[1][0]), (1, 1));
    }

    #[test]
    fn broadcast_axes_stay_apart() {
        let params = broadcast_params(&[3, 4], &[&[3, 1], &[1, 4]]).unwrap();
        assert_eq!(params.rank, 2);
        assert_eq!(&params.strides[0][..2], &[1, 0]);
        assert_eq!(&params.strides[1][..2], &[0, 1]);
        let scalar = broadcast_params(&[2, 3], &[&[], &[2, 3]]).unwrap();
        assert_eq!((scalar.rank, scalar.strides[0][0]), (1, 0));
    }

    #[test]
    fn output_shape_of_many_inputs() {
        let shape = broadcast_output_shape("t", &[&[2, 1, 3], &[4, 1], &[]]).unwrap();
        assert_eq!(shape, vec![2, 4, 3]);
        assert!(matches!(
            broadcast_output_shape("t", &[&[2], &[3]]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert_eq!(reference_offset(5, &[2, 3], &[0, 1]), 2);
    }
}
