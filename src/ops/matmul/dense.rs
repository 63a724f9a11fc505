//! Launching a dense product with f32 or f16 operands as stored: the GEMV for one row times a
//! transposed B, the tiled core otherwise. [`f32`](super::f32) and [`f16`](super::f16) differ only
//! in which programs they pick; this is the one place that binds their operands.

use crate::device::{Gpu, ShaderProgram};
use crate::error::Result;
use crate::ops::matmul::gemv::{launch_dense_gemv, GemvOperands};
use crate::ops::matmul::tiled::{self, TiledOperands};
use crate::ops::matmul::{MatmulDims, MatmulOptions};
use crate::tensor::GpuTensor;

/// Which kernel a dense product runs, with its program.
pub(crate) enum DenseProgram {
    /// A dense GEMV program (`dims` must satisfy [`gemv_fits`](super::gemv::gemv_fits)).
    Gemv(&'static ShaderProgram),
    /// A tiled-core program whose B loader declares `B_TRANSPOSED`.
    Tiled(&'static ShaderProgram),
}

/// The tensors of `C = act(A·B + bias)`.
pub(crate) struct DenseOperands<'a> {
    pub a: &'a GpuTensor,
    pub b: &'a GpuTensor,
    pub bias: Option<&'a GpuTensor>,
    pub c: &'a GpuTensor,
}

/// Records one dense product of `program` for `dims`.
pub(crate) fn launch_dense(
    gpu: &Gpu,
    program: DenseProgram,
    dims: &MatmulDims,
    options: &MatmulOptions,
    operands: DenseOperands<'_>,
) -> Result<()> {
    let DenseOperands { a, b, bias, c } = operands;
    let bias = bias.map(GpuTensor::buffer);
    match program {
        DenseProgram::Gemv(program) => {
            let operands = GemvOperands {
                a: a.buffer(),
                w: b.buffer(),
                bias,
                y: c.buffer(),
                extra: Vec::new(),
            };
            launch_dense_gemv(gpu, program, dims, operands, options.activation)
        }
        DenseProgram::Tiled(program) => {
            let operands = TiledOperands {
                a: a.buffer(),
                b: b.buffer(),
                bias,
                c: c.buffer(),
                extra: Vec::new(),
                constants: vec![tiled::b_transposed_constant(dims)],
            };
            tiled::launch_tiled(gpu, program, dims, options, operands, 0)
        }
    }
}
