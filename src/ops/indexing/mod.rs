//! ONNX Gather on the GPU: the CPU reference and the launcher of `shaders/indexing_gather.wgsl`,
//! for data of any 1-, 2- or 4-byte dtype (f32, f16, i32, i8, u8, bool as u8).
//!
//! Indices come two ways ([`GatherIndices`]). Constant indices (an initializer, i32 or i64) are
//! checked and wrapped on the host: one outside `[-extent, extent)` is an error, as on the CPU.
//! Indices computed at run time (an i32 device tensor) are wrapped and checked by the kernel: it
//! writes an out-of-range element as 0 (never reading outside `data`) and records the first bad
//! index in a status buffer that [`Gpu::check_after`] turns, at the next readback, into the
//! error the CPU reference gives for it.

use crate::device::{Binding, Gpu, GpuBuffer, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::element::{elements, with_element_type, HostElement};
use crate::tensor::shape::normalize_axis;
use crate::tensor::{DType, GpuTensor, HostTensor};

/// Gather along one axis, specialised by element size.
pub const INDEXING_GATHER: ShaderProgram = ShaderProgram {
    name: "indexing_gather",
    parts: &[include_str!("../../../shaders/indexing_gather.wgsl")],
    needs_f16: false,
};

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] = &[&INDEXING_GATHER];

/// Where Gather's indices come from.
#[derive(Clone, Copy)]
pub enum GatherIndices<'a> {
    /// Known on the host (an initializer, i32 or i64): range-checked before launch.
    Constant(&'a HostTensor),
    /// Computed on the GPU (i32): an out-of-range index is an error at the next readback.
    Device(&'a GpuTensor),
}

/// `GatherParams` in `indexing_gather.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GatherParams {
    extent: u32,
    index_count: u32,
    inner: u32,
    count: u32,
    word_count: u32,
    pad: [u32; 3],
}

/// Gather's output shape: `data_shape[..axis] ++ indices_shape ++ data_shape[axis + 1..]`
/// (`axis` already non-negative).
pub fn gather_shape(data_shape: &[usize], indices_shape: &[usize], axis: usize) -> Vec<usize> {
    [&data_shape[..axis], indices_shape, &data_shape[axis + 1..]].concat()
}

/// The error for `index` outside an axis of `extent`, at `location` (a node, or empty).
fn out_of_range(index: i64, extent: usize, location: &str) -> Error {
    let error = Error::InvalidArgument {
        op: "Gather",
        detail: format!("index {index} is out of range for an axis of extent {extent}"),
    };
    located(error, location)
}

/// `indices` (any integer dtype) wrapped into `[0, extent)`: negative ones count from the end;
/// one still outside is an [`Error::InvalidArgument`].
fn wrapped_indices(indices: &HostTensor, extent: usize) -> Result<Vec<usize>> {
    let wrap = |index: i64| {
        let position = if index < 0 {
            index + extent as i64
        } else {
            index
        };
        usize::try_from(position)
            .ok()
            .filter(|&position| position < extent)
            .ok_or_else(|| out_of_range(index, extent, ""))
    };
    indices
        .to_i64_vec("Gather")?
        .into_iter()
        .map(wrap)
        .collect()
}

/// ONNX Gather of `data` (any dtype) by integer `indices` along `axis`: negative indices count
/// from the end; one out of range is an [`Error::InvalidArgument`].
pub fn reference_gather(data: &HostTensor, indices: &HostTensor, axis: i64) -> Result<HostTensor> {
    let axis = normalize_axis("Gather", axis, data.shape().len())?;
    let extent = data.shape()[axis];
    let positions = wrapped_indices(indices, extent)?;
    let outer: usize = data.shape()[..axis].iter().product();
    let inner: usize = data.shape()[axis + 1..].iter().product();
    let shape = gather_shape(data.shape(), indices.shape(), axis);
    let gathered = with_element_type!(data.dtype(), T => {
        let values = elements::<T>(data, "Gather data")?;
        let mut output = Vec::with_capacity(outer * positions.len() * inner);
        for block in 0..outer {
            for &position in &positions {
                let start = (block * extent + position) * inner;
                output.extend_from_slice(&values[start..start + inner]);
            }
        }
        T::into_data(output)
    });
    HostTensor::new(&shape, gathered)
}

/// Constant `indices` wrapped into `[0, extent)`, as an i32 device tensor of their shape; an
/// [`Error::InvalidArgument`] for one out of range.
fn upload_constant_indices(gpu: &Gpu, indices: &HostTensor, extent: usize) -> Result<GpuTensor> {
    let wrapped = (wrapped_indices(indices, extent)?.into_iter())
        .map(|position| {
            i32::try_from(position).map_err(|_| Error::InvalidArgument {
                op: "Gather",
                detail: format!("index {position} does not fit the GPU's i32 indices"),
            })
        })
        .collect::<Result<Vec<i32>>>()?;
    GpuTensor::upload(gpu, indices.shape(), &wrapped)
}

/// ONNX Gather on the GPU: the output is `data.shape[..axis] ++ indices.shape ++
/// data.shape[axis + 1..]`. Errors: [`Error::Unsupported`] for i64 data or device indices that
/// are not i32; [`Error::InvalidArgument`] for an index out of range (constant indices at once,
/// device indices at the next readback). `location` (a node, or empty) prefixes the index error,
/// as the CPU backend's does.
pub fn gather(
    gpu: &Gpu,
    data: &GpuTensor,
    indices: GatherIndices<'_>,
    axis: i64,
    location: &str,
) -> Result<GpuTensor> {
    let element_bytes = data.dtype().size_bytes();
    if element_bytes > 4 {
        return Err(Error::Unsupported {
            location: "Gather".into(),
            detail: format!(
                "{} data on the GPU (elements of at most 4 bytes)",
                data.dtype()
            ),
        });
    }
    let axis = normalize_axis("Gather", axis, data.shape().len())?;
    let extent = data.shape()[axis];
    let uploaded;
    let (indices, checked_on_gpu) = match indices {
        GatherIndices::Constant(host) => {
            uploaded = upload_constant_indices(gpu, host, extent)
                .map_err(|error| located(error, location))?;
            (&uploaded, false)
        }
        GatherIndices::Device(tensor) => {
            tensor.expect_dtype("Gather indices", DType::I32)?;
            (tensor, true)
        }
    };
    let shape = gather_shape(data.shape(), indices.shape(), axis);
    let output = GpuTensor::uninit(gpu, &shape, data.dtype())?;
    let count: usize = shape.iter().product();
    if count == 0 {
        return Ok(output);
    }
    let word_count = (count * element_bytes).div_ceil(4);
    let params = GatherParams {
        extent: to_u32("Gather axis extent", extent)?,
        index_count: to_u32("Gather indices", indices.shape().iter().product())?,
        inner: to_u32(
            "Gather inner size",
            data.shape()[axis + 1..].iter().product(),
        )?,
        count: to_u32("Gather output elements", count)?,
        word_count: to_u32("Gather output words", word_count)?,
        pad: [0; 3],
    };
    let launch = Launch {
        gpu,
        params: &params,
        data,
        indices,
        output: &output,
        element_bytes,
    };
    if checked_on_gpu {
        launch.checked(extent, location)?;
    } else {
        launch.run(None, 0, word_count)?;
    }
    Ok(output)
}

/// `error` with `location` (a node, or empty) in front of its detail.
fn located(error: Error, location: &str) -> Error {
    match error {
        Error::InvalidArgument { op, detail } if !location.is_empty() => Error::InvalidArgument {
            op,
            detail: format!("{location}: {detail}"),
        },
        other => other,
    }
}

/// One Gather's bindings, launched plain or with the on-GPU index check.
struct Launch<'a> {
    gpu: &'a Gpu,
    params: &'a GatherParams,
    data: &'a GpuTensor,
    indices: &'a GpuTensor,
    output: &'a GpuTensor,
    element_bytes: usize,
}

/// The status words the kernel starts from: no bad index position, no value.
const NO_BAD_INDEX: [u32; 2] = [u32::MAX, 0];

impl Launch<'_> {
    /// Records the gather with the index check, its value-recording pass, and the deferred
    /// check that turns a bad index into [`Error::InvalidArgument`] at the next readback.
    fn checked(&self, extent: usize, location: &str) -> Result<()> {
        let status = self.gpu.upload_bytes(bytemuck::cast_slice(&NO_BAD_INDEX))?;
        self.run(Some(&status), 1, self.params.word_count as usize)?;
        self.run(Some(&status), 2, 1)?;
        let location = location.to_string();
        self.gpu.check_after(
            &status,
            Box::new(move |words| {
                (words[0] != NO_BAD_INDEX[0])
                    .then(|| out_of_range(i64::from(words[1] as i32), extent, &location))
            }),
        );
        Ok(())
    }

    /// One launch over `threads` output words: `pass` 0 plain, 1 checking indices into
    /// `status`, 2 recording the first bad index's value.
    fn run(&self, status: Option<&GpuBuffer>, pass: u32, threads: usize) -> Result<()> {
        let constants = [
            ("ELEMENT_BYTES", self.element_bytes as f64),
            ("CHECK_INDICES", f64::from(u32::from(pass == 1))),
            ("RECORD_BAD_INDEX", f64::from(u32::from(pass == 2))),
        ];
        let pipeline = self.gpu.pipeline(&INDEXING_GATHER, &constants)?;
        let bindings = [
            (0, Binding::Uniform(bytemuck::bytes_of(self.params))),
            (1, Binding::Storage(self.data.buffer())),
            (2, Binding::Storage(self.indices.buffer())),
            (3, Binding::Storage(self.output.buffer())),
            (4, status.map_or(Binding::Unused, Binding::Storage)),
        ];
        let grid = grid_for(self.gpu, threads, ELEMENTWISE_WORKGROUP)?;
        self.gpu.dispatch(&pipeline, &bindings, grid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::TensorData;

    #[test]
    fn reference_wraps_negative_indices() {
        let data = HostTensor::new(&[3], TensorData::I32(vec![10, 20, 30])).unwrap();
        let indices = HostTensor::new(&[2], TensorData::I64(vec![-1, 0])).unwrap();
        let y = reference_gather(&data, &indices, 0).unwrap();
        assert_eq!(y.data(), &TensorData::I32(vec![30, 10]));
        let outside = HostTensor::new(&[1], TensorData::I64(vec![3])).unwrap();
        assert!(reference_gather(&data, &outside, 0).is_err());
    }
}
