//! Convolution over any weight product: the explicit im2col of the input into slabs of the patch
//! matrix `P [N·OH·OW, K]` (`shaders/conv_im2col.wgsl`), a caller-supplied product `act(P·Wᵀ +
//! bias)` per slab (the packed-weight matmul kernels: int8, int4, block-sparse, N:M), and a copy of
//! each slab's `[rows, M]` result into the NCHW output (`shaders/conv_rows_to_nchw.wgsl`). This
//! is how a Conv whose weight stays compressed runs on the GPU: the weight kernels need no conv
//! variant, and the bias and activation run in their epilogue (bias per column = per channel).
//!
//! The im2col and the copy move values without arithmetic, so the result carries exactly the
//! product kernel's rounding: the reference is
//! [`reference_conv2d`](crate::ops::conv::reference_conv2d) with the weight dequantized, within
//! that kernel's f32-accumulation bound for `K = C·kH·kW`.
//!
//! Assumes one group (grouped and depthwise convolutions are an [`Error::InvalidArgument`]; the
//! runtime runs those dense). A slab holds as many output pixels as fit both as patches (`rows·K`
//! f32) and as products (`rows·M` f32) in one storage binding and in [`MAX_SLAB_BYTES`], so the
//! extra memory stays bounded whatever the batch and image size (large GPUs bind gigabytes).

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::conv::params::ConvDims;
use crate::ops::conv::programs::{CONV_IM2COL, CONV_ROWS_TO_NCHW};
use crate::ops::conv::uniform::ConvUniform;
use crate::ops::conv::Conv2dParams;
use crate::ops::grid::grid_for;
use crate::ops::matmul::tiled::{check_bias, to_u32};
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

const OP: &str = "conv2d_im2col";

/// Threads per workgroup of both kernels (`WORKGROUP_SIZE` in their WGSL).
const WORKGROUP_SIZE: usize = 256;
/// The most bytes of one slab's patches (or products): 64 MiB, beyond which larger slabs only
/// save dispatches (each slab's product already fills the device).
pub const MAX_SLAB_BYTES: u64 = 64 << 20;
/// The most rows one product may take: the tiled matmul kernels run 64 rows per workgroup on one
/// grid dimension (65 535 workgroups at least on every device).
const MAX_SLAB_ROWS: usize = 64 * 65_535;

/// `SlabParams` in `conv_slab.wgsl` (read by `conv_im2col.wgsl` and `conv_rows_to_nchw.wgsl`): the first output pixel of
/// the slab, its rows, the row length (`K`, respectively `M`) and `OH·OW`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SlabParams {
    first_row: u32,
    rows: u32,
    row_len: u32,
    out_pixels: u32,
}

/// The weight product one slab runs: `act(P·Wᵀ + bias)` for patches `P` `[rows, K]` f32, giving
/// `[rows, M]` f32.
pub type WeightProduct<'a> =
    dyn Fn(&GpuTensor, Option<&GpuTensor>, Activation) -> Result<GpuTensor> + 'a;

/// `act(conv(x, W) + bias)` for f32 `x` `[N, C, H, W]` and a weight of logical shape
/// `weight_shape` `[M, C, kH, kW]` that only `product` reads (as `W` `[M, C·kH·kW]`); `bias` is f32
/// `[M]`. The result is `[N, M, OH, OW]`. `params.groups` must be 1.
pub fn conv2d_im2col(
    gpu: &Gpu,
    x: &GpuTensor,
    weight_shape: &[usize],
    bias: Option<&GpuTensor>,
    params: &Conv2dParams,
    activation: Activation,
    product: &WeightProduct<'_>,
) -> Result<GpuTensor> {
    x.expect_dtype(OP, DType::F32)?;
    let dims = params.dims(x.shape(), weight_shape)?;
    if dims.groups != 1 {
        return Err(Error::InvalidArgument {
            op: OP,
            detail: format!("the im2col path runs one group, got {}", dims.groups),
        });
    }
    check_bias(OP, bias, dims.out_channels)?;
    let geometry = ConvUniform::new(&dims, params.strides, params.pads, params.dilations)?;
    let k = dims.channels * dims.kernel[0] * dims.kernel[1];
    let total_rows = dims.batch * dims.out_pixels();
    let slab_rows = slab_rows(gpu.max_binding_bytes(), k, dims.out_channels)?.min(total_rows);
    let y = GpuTensor::uninit(gpu, &dims.output_shape(), DType::F32)?;
    for first_row in (0..total_rows).step_by(slab_rows) {
        let rows = slab_rows.min(total_rows - first_row);
        let patches = GpuTensor::uninit(gpu, &[rows, k], DType::F32)?;
        let slab = slab_params(first_row, rows, k, &dims)?;
        let bindings = [
            (0, Binding::Storage(x.buffer())),
            (1, Binding::Storage(patches.buffer())),
            (4, Binding::Uniform(bytemuck::bytes_of(&slab))),
            (5, Binding::Uniform(bytemuck::bytes_of(&geometry))),
        ];
        dispatch(gpu, &CONV_IM2COL, &bindings, rows * k)?;
        let products = product(&patches, bias, activation)?;
        if products.shape() != [rows, dims.out_channels] || products.dtype() != DType::F32 {
            return Err(Error::ShapeMismatch {
                op: OP,
                detail: format!(
                    "the weight product of [{rows}, {k}] patches gave {} {:?}, expected f32 \
                     [{rows}, {}]",
                    products.dtype(),
                    products.shape(),
                    dims.out_channels
                ),
            });
        }
        let scatter = slab_params(first_row, rows, dims.out_channels, &dims)?;
        let bindings = [
            (0, Binding::Storage(products.buffer())),
            (3, Binding::Storage(y.buffer())),
            (4, Binding::Uniform(bytemuck::bytes_of(&scatter))),
        ];
        dispatch(gpu, &CONV_ROWS_TO_NCHW, &bindings, rows * dims.out_channels)?;
    }
    Ok(y)
}

/// Output pixels per slab on a device binding `binding_bytes`: as many as fit that binding (and
/// [`MAX_SLAB_BYTES`]) as `K` patch values and as `M` products.
fn slab_rows(binding_bytes: u64, k: usize, out_channels: usize) -> Result<usize> {
    let slab_bytes = binding_bytes.min(MAX_SLAB_BYTES);
    let slab_floats = usize::try_from(slab_bytes / 4).unwrap_or(usize::MAX);
    let widest = k.max(out_channels);
    let rows = (slab_floats / widest).min(MAX_SLAB_ROWS);
    if rows == 0 {
        return Err(Error::LimitExceeded {
            what: "one im2col row (C·kH·kW or M f32 values) in a storage binding",
            requested: widest as u64 * 4,
            limit: slab_bytes,
        });
    }
    Ok(rows)
}

/// The uniform of a slab of `rows` output pixels from `first_row` with rows of `row_len` values.
fn slab_params(
    first_row: usize,
    rows: usize,
    row_len: usize,
    dims: &ConvDims,
) -> Result<SlabParams> {
    Ok(SlabParams {
        first_row: to_u32("im2col first row", first_row)?,
        rows: to_u32("im2col slab rows", rows)?,
        row_len: to_u32("im2col row length", row_len)?,
        out_pixels: to_u32("conv output pixels", dims.out_pixels())?,
    })
}

/// Records one dispatch of `program` with one thread per element of `count`.
fn dispatch(
    gpu: &Gpu,
    program: &ShaderProgram,
    bindings: &[(u32, Binding<'_>)],
    count: usize,
) -> Result<()> {
    let pipeline = gpu.pipeline(program, &[])?;
    gpu.dispatch(&pipeline, bindings, grid_for(gpu, count, WORKGROUP_SIZE)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slabs_fit_the_binding_and_the_byte_cap() {
        // 4 KiB: 1024 floats, 22 rows of K = 45; the wider M = 70 bounds it to 14.
        assert_eq!(slab_rows(4096, 45, 6).unwrap(), 22);
        assert_eq!(slab_rows(4096, 45, 70).unwrap(), 14);
        // A 2 GiB binding is capped at 64 MiB: 16 Mi floats, 167 772 rows of K = 100.
        assert_eq!(slab_rows(2 << 30, 100, 16).unwrap(), 167_772);
        // Tiny rows stop at what one tiled product's grid takes.
        assert_eq!(slab_rows(2 << 30, 1, 1).unwrap(), MAX_SLAB_ROWS);
        let too_wide = slab_rows(4096, 1025, 8);
        assert!(matches!(too_wide, Err(Error::LimitExceeded { .. })));
    }
}
