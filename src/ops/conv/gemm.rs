//! Launching the float implicit GEMMs: the tiled core's dimensions for a convolution and the
//! checks every dtype shares.

use crate::device::{Binding, Gpu, GpuBuffer, OverrideConstant, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::conv::params::ConvDims;
use crate::ops::conv::uniform::ConvUniform;
use crate::ops::conv::Conv2dParams;
use crate::ops::matmul::tiled::{self, TiledOperands};
use crate::ops::matmul::{MatmulDims, MatmulOptions};
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

/// Checks dtypes and the bias, then returns the convolution's dimensions.
pub(super) fn check_operands(
    op: &'static str,
    dtype: DType,
    x: &GpuTensor,
    w: &GpuTensor,
    bias: Option<&GpuTensor>,
    params: &Conv2dParams,
) -> Result<ConvDims> {
    x.expect_dtype(op, dtype)?;
    w.expect_dtype(op, dtype)?;
    let dims = params.dims(x.shape(), w.shape())?;
    tiled::check_bias(op, bias, dims.out_channels)?;
    Ok(dims)
}

/// The product the tiled core computes for each group (grid z): the weight `[M/groups, K]` (A)
/// times the gathered im2col matrix `[K, N·OH·OW]` (B).
fn gemm_dims(dims: &ConvDims) -> MatmulDims {
    MatmulDims {
        batch: dims.groups,
        m: dims.out_channels_per_group(),
        n: dims.batch * dims.out_pixels(),
        k: dims.channels_per_group() * dims.kernel[0] * dims.kernel[1],
        b_batched: false,
        b_transposed: false,
    }
}

/// `K`, the reduction length of the implicit GEMM.
pub(super) fn reduction_len(dims: &ConvDims) -> usize {
    gemm_dims(dims).k
}

/// The buffers of one implicit GEMM: the weight (the core's A) with the bindings its loader adds
/// (6 and up), the override constants it declares and its groups per row (int4; none, none and 0
/// for a dense weight), the input, the bias and the output.
pub(super) struct GemmOperands<'a> {
    pub weight: &'a GpuBuffer,
    pub weight_extra: Vec<(u32, Binding<'a>)>,
    pub weight_constants: Vec<OverrideConstant>,
    pub weight_groups_per_row: usize,
    pub x: &'a GpuTensor,
    pub bias: Option<&'a GpuTensor>,
    pub y: &'a GpuTensor,
}

impl<'a> GemmOperands<'a> {
    /// The operands of a convolution with a dense weight `w`.
    pub(super) fn dense(
        (x, w, bias, y): (
            &'a GpuTensor,
            &'a GpuTensor,
            Option<&'a GpuTensor>,
            &'a GpuTensor,
        ),
    ) -> Self {
        GemmOperands {
            weight: w.buffer(),
            weight_extra: Vec::new(),
            weight_constants: Vec::new(),
            weight_groups_per_row: 0,
            x,
            bias,
            y,
        }
    }
}

/// Records one implicit-GEMM dispatch of `program` writing `operands.y`.
pub(super) fn launch(
    gpu: &Gpu,
    program: &ShaderProgram,
    dims: &ConvDims,
    params: &Conv2dParams,
    operands: GemmOperands<'_>,
    activation: Activation,
) -> Result<()> {
    let geometry = ConvUniform::new(dims, params.strides, params.pads, params.dilations)?;
    let gemm = gemm_dims(dims);
    if gemm.k > i32::MAX as usize {
        return Err(Error::LimitExceeded {
            what: "conv reduction length",
            requested: gemm.k as u64,
            limit: i32::MAX as u64,
        });
    }
    let pointwise = params.is_pointwise(dims);
    let mut extra = vec![(5, Binding::Uniform(bytemuck::bytes_of(&geometry)))];
    extra.extend(operands.weight_extra);
    let mut constants = vec![("POINTWISE", f64::from(u8::from(pointwise)))];
    constants.extend(operands.weight_constants);
    let groups_per_row = operands.weight_groups_per_row;
    let operands = TiledOperands {
        a: operands.weight,
        b: operands.x.buffer(),
        bias: operands.bias.map(GpuTensor::buffer),
        c: operands.y.buffer(),
        extra,
        constants,
    };
    let options = MatmulOptions {
        b_transposed: false,
        activation,
    };
    tiled::launch_tiled(gpu, program, &gemm, &options, operands, groups_per_row)
}
