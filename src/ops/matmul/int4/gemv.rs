//! Launching the int4 GEMV (`shaders/gemv_q4.wgsl`): one activation row times int4 weights, eight
//! output channels per workgroup.

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::Result;
use crate::ops::matmul::int4::Q4Operands;
use crate::ops::matmul::tiled::to_u32;
use crate::ops::Activation;

/// Output channels one workgroup computes (`ROWS_PER_WORKGROUP` in the shader).
const ROWS_PER_WORKGROUP: usize = 8;

/// `GemvParams` in `gemv_q4.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GemvParams {
    n: u32,
    k: u32,
    groups_per_row: u32,
    words_per_row: u32,
    words_per_group: u32,
}

/// Records one GEMV dispatch of `program` for the single row in `operands.a`.
pub(super) fn launch_gemv(
    gpu: &Gpu,
    program: &ShaderProgram,
    operands: Q4Operands<'_>,
    activation: Activation,
) -> Result<()> {
    let Q4Operands { a, w, bias, y } = operands;
    let words_per_group = w.group_size.elements() / 8;
    let params = GemvParams {
        n: to_u32("GEMV output channels", w.rows)?,
        k: to_u32("GEMV K", w.cols)?,
        groups_per_row: to_u32("GEMV groups per row", w.groups_per_row)?,
        words_per_row: to_u32("GEMV words per row", w.groups_per_row * words_per_group)?,
        words_per_group: to_u32("GEMV words per group", words_per_group)?,
    };
    let mut constants = activation.override_constants().to_vec();
    constants.push(("HAS_BIAS", f64::from(u8::from(bias.is_some()))));
    let pipeline = gpu.pipeline(program, &constants)?;
    let bindings = [
        (0, Binding::Storage(a)),
        (1, Binding::Storage(&w.nibbles)),
        (2, bias.map_or(Binding::Unused, Binding::Storage)),
        (3, Binding::Storage(y)),
        (4, Binding::Uniform(bytemuck::bytes_of(&params))),
        (5, Binding::Storage(&w.scales)),
        (6, Binding::Storage(&w.zero_points)),
    ];
    let workgroups = to_u32("GEMV workgroups", w.rows.div_ceil(ROWS_PER_WORKGROUP))?;
    gpu.dispatch(&pipeline, &bindings, [workgroups, 1, 1])
}
