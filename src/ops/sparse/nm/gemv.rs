//! Launching the N:M GEMV (`shaders/gemv_nm.wgsl`): one activation row times an N:M-sparse weight,
//! eight output channels per workgroup, the 32 threads of each splitting the row's kept values.

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::Result;
use crate::ops::matmul::gemv::GEMV_ROWS_PER_WORKGROUP;
use crate::ops::matmul::tiled::to_u32;
use crate::ops::sparse::nm::{pattern_constants, NmOperands};
use crate::ops::Activation;

/// `GemvParams` in `gemv_nm.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GemvParams {
    n: u32,
    k: u32,
    slots_per_row: u32,
    words_per_row: u32,
}

/// Records one GEMV dispatch of `program` for the single row in `operands.x`.
pub(super) fn launch_gemv(
    gpu: &Gpu,
    program: &ShaderProgram,
    operands: NmOperands<'_>,
    activation: Activation,
) -> Result<()> {
    let NmOperands { x, w, bias, y } = operands;
    let params = GemvParams {
        n: to_u32("GEMV output channels", w.rows)?,
        k: to_u32("GEMV K", w.cols)?,
        slots_per_row: to_u32("GEMV kept values per row", w.slots_per_row())?,
        words_per_row: to_u32("GEMV position words per row", w.words_per_row)?,
    };
    let mut constants = activation.override_constants().to_vec();
    constants.push(("HAS_BIAS", f64::from(u8::from(bias.is_some()))));
    constants.extend(pattern_constants(w.pattern));
    let pipeline = gpu.pipeline(program, &constants)?;
    let bindings = [
        (0, Binding::Storage(x)),
        (1, Binding::Storage(&w.values)),
        (2, bias.map_or(Binding::Unused, Binding::Storage)),
        (3, Binding::Storage(y)),
        (4, Binding::Uniform(bytemuck::bytes_of(&params))),
        (5, Binding::Storage(&w.positions)),
    ];
    let workgroups = to_u32("GEMV workgroups", w.rows.div_ceil(GEMV_ROWS_PER_WORKGROUP))?;
    gpu.dispatch(&pipeline, &bindings, [workgroups, 1, 1])
}
