//! Recording the two passes of a BSR matmul into the pending encoder: pass 1 (GEMM or GEMV) writes
//! per-chunk partial sums into a scratch buffer, pass 2 (reduce) sums them per output and stores.

use crate::device::{Binding, Gpu, GpuBuffer, OverrideConstant};
use crate::error::Result;
use crate::ops::matmul::tiled::to_u32;
use crate::ops::sparse::bsr::matrix::GpuBsrMatrix;
use crate::ops::sparse::bsr::programs::{
    gemv_chunk_threads, pass1_constants, pass1_program, Operands, Pass1,
};
use crate::ops::sparse::bsr::programs::{
    BSR_REDUCE_F16, BSR_REDUCE_F32, BSR_REDUCE_Q8_F32, BSR_REDUCE_Q8_I32,
};
use crate::ops::Activation;

/// Activation rows one GEMM workgroup covers (`TILE_M` in `bsr_gemm*.wgsl`).
const GEMM_TILE_ROWS: usize = 64;
/// Threads of a GEMV workgroup (`GEMV_THREADS` in `bsr_gemv_slots.wgsl`).
const GEMV_THREADS: usize = 256;
/// Threads of a reduce workgroup (`bsr_reduce*.wgsl`).
const REDUCE_THREADS: usize = 256;

/// `BsrParams` in `bsr_work.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Pass1Params {
    rows: u32,
    k: u32,
    k_words: u32,
    chunk_count: u32,
}

/// `ReduceParams` in `bsr_reduce_q8.wgsl`; `bsr_reduce.wgsl` declares only the first three.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ReduceParams {
    m: u32,
    n: u32,
    block_rows: u32,
    a_zero_point: i32,
    a_scale: f32,
}

/// What the reduce pass stores.
pub(crate) enum Store<'a> {
    /// Float output in the activations' dtype: `act(Σ + bias)`.
    Float {
        bias: Option<&'a GpuBuffer>,
        activation: Activation,
    },
    /// Int8: the exact i32 accumulators.
    Q8I32 { a_zero_point: i8 },
    /// Int8: `act(x_scale · w_scale[n] · acc + bias[n])` in f32.
    Q8F32 {
        a_zero_point: i8,
        a_scale: f32,
        bias: Option<&'a GpuBuffer>,
        activation: Activation,
    },
}

/// One BSR product to record: the operands' buffers and how many activation rows there are.
pub(crate) struct BsrLaunch<'a> {
    pub w: &'a GpuBsrMatrix,
    pub x: &'a GpuBuffer,
    pub y: &'a GpuBuffer,
    pub rows: usize,
    pub operands: Operands,
    pub pass: Pass1,
}

/// `count` workgroups laid out as `[x, y]` with `x` at most the device's per-dimension limit (the
/// shaders number them `x + y · num_workgroups.x` and skip the excess).
fn folded_grid(gpu: &Gpu, what: &'static str, count: usize) -> Result<[u32; 2]> {
    let limit = gpu.limits().max_compute_workgroups_per_dimension.max(1) as usize;
    let width = count.clamp(1, limit);
    Ok([to_u32(what, width)?, to_u32(what, count.div_ceil(width))?])
}

/// Records pass 1 and pass 2 of `launch`, pass 2 storing as `store` says.
pub(crate) fn record(gpu: &Gpu, launch: &BsrLaunch<'_>, store: Store<'_>) -> Result<()> {
    let (w, rows) = (launch.w, launch.rows);
    let block_rows = w.block().rows();
    // Partials are indexed (chunk · rows + row) · R + r in u32, as are the outputs.
    to_u32(
        "BSR partial sums",
        w.chunk_count() * rows * block_rows + block_rows,
    )?;
    to_u32("BSR activation elements", rows * w.cols().div_ceil(4) * 4)?;
    to_u32("BSR output elements", rows * w.rows() + 1)?;
    let partial_bytes = (w.chunk_count() * rows * block_rows * 4) as u64;
    let partials = gpu.alloc(partial_bytes)?;
    record_pass1(gpu, launch, &partials)?;
    record_reduce(gpu, launch, &partials, store)
}

/// Records pass 1: one workgroup per chunk and per 64-row tile (GEMM), or per
/// `256 / CHUNK_THREADS` chunks and per row (GEMV).
fn record_pass1(gpu: &Gpu, launch: &BsrLaunch<'_>, partials: &GpuBuffer) -> Result<()> {
    let w = launch.w;
    let params = Pass1Params {
        rows: to_u32("BSR activation rows", launch.rows)?,
        k: to_u32("BSR K", w.cols())?,
        k_words: to_u32("BSR K words", w.cols().div_ceil(4))?,
        chunk_count: to_u32("BSR chunks", w.chunk_count())?,
    };
    let program = pass1_program(launch.operands, launch.pass);
    let pipeline = gpu.pipeline(
        program,
        &pass1_constants(w.block(), launch.operands, launch.pass),
    )?;
    let bindings = [
        (0, Binding::Storage(launch.x)),
        (1, Binding::Storage(w.values())),
        (3, Binding::Storage(partials)),
        (4, Binding::Uniform(bytemuck::bytes_of(&params))),
        (5, Binding::Storage(w.col_idx())),
        (6, Binding::Storage(w.chunks())),
    ];
    let (workgroups, layers) = match launch.pass {
        Pass1::Gemm => (w.chunk_count(), launch.rows.div_ceil(GEMM_TILE_ROWS)),
        Pass1::Gemv => {
            let chunks_per_workgroup = GEMV_THREADS / gemv_chunk_threads(w.block());
            (w.chunk_count().div_ceil(chunks_per_workgroup), launch.rows)
        }
    };
    let [x, y] = folded_grid(gpu, "BSR chunks", workgroups)?;
    let z = to_u32("BSR row tiles", layers)?;
    // No chunks (every block zero) or no rows: nothing to add; dispatch skips empty grids.
    let z = if w.chunk_count() == 0 { 0 } else { z };
    gpu.dispatch(&pipeline, &bindings, [x, y, z])
}

/// Records pass 2: one thread per output (int8) or per pair of outputs (float).
fn record_reduce(
    gpu: &Gpu,
    launch: &BsrLaunch<'_>,
    partials: &GpuBuffer,
    store: Store<'_>,
) -> Result<()> {
    let w = launch.w;
    let outputs = launch.rows * w.rows();
    let mut params = ReduceParams {
        m: to_u32("BSR activation rows", launch.rows)?,
        n: to_u32("BSR output channels", w.rows())?,
        block_rows: to_u32("BSR block rows", w.block().rows())?,
        a_zero_point: 0,
        a_scale: 0.0,
    };
    let mut bindings = vec![
        (3, Binding::Storage(launch.y)),
        (5, Binding::Storage(partials)),
        (6, Binding::Storage(w.chunk_ptr())),
    ];
    let mut constants: Vec<OverrideConstant> = Vec::new();
    let (program, threads) = match store {
        Store::Float { bias, activation } => {
            constants.extend(epilogue_constants(bias, activation));
            bindings.push((2, bias.map_or(Binding::Unused, Binding::Storage)));
            let program = match launch.operands {
                Operands::F16 => &BSR_REDUCE_F16,
                Operands::F32 | Operands::Q8(_) => &BSR_REDUCE_F32,
            };
            (program, outputs.div_ceil(2))
        }
        Store::Q8I32 { a_zero_point } => {
            params.a_zero_point = i32::from(a_zero_point);
            bindings.push((
                8,
                Binding::Storage(&w.q8_rows("bsr_matmul_q8_i32")?.row_sums),
            ));
            (&BSR_REDUCE_Q8_I32, outputs)
        }
        Store::Q8F32 {
            a_zero_point,
            a_scale,
            bias,
            activation,
        } => {
            (params.a_zero_point, params.a_scale) = (i32::from(a_zero_point), a_scale);
            let q8_rows = w.q8_rows("bsr_matmul_q8")?;
            constants.extend(epilogue_constants(bias, activation));
            bindings.push((2, bias.map_or(Binding::Unused, Binding::Storage)));
            bindings.push((7, Binding::Storage(&q8_rows.scales)));
            bindings.push((8, Binding::Storage(&q8_rows.row_sums)));
            (&BSR_REDUCE_Q8_F32, outputs)
        }
    };
    bindings.push((4, Binding::Uniform(bytemuck::bytes_of(&params))));
    let pipeline = gpu.pipeline(program, &constants)?;
    let [x, y] = folded_grid(
        gpu,
        "BSR reduce workgroups",
        threads.div_ceil(REDUCE_THREADS),
    )?;
    let y = if threads == 0 { 0 } else { y };
    gpu.dispatch(&pipeline, &bindings, [x, y, 1])
}

/// The shared epilogue's constants: the activation and whether there is a bias.
fn epilogue_constants(bias: Option<&GpuBuffer>, activation: Activation) -> Vec<OverrideConstant> {
    let mut constants = activation.override_constants().to_vec();
    constants.push(("HAS_BIAS", f64::from(u8::from(bias.is_some()))));
    constants
}
