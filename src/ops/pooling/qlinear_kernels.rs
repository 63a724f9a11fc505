//! The launchers of the quantized average pools (`shaders/pool2d_qlinear_average.wgsl`,
//! `shaders/pool_global_qlinear.wgsl`): their uniform blocks, multiplier table and grids. They
//! check what the references check, so a bad scale, zero point or window is an error here too.

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::ops::pooling::kernels::global_shapes;
use crate::ops::pooling::qlinear::{check_taps, QLinearPoolQuant};
use crate::ops::pooling::{nchw, pool2d_output_shape, Pool2dOptions};
use crate::tensor::{DType, GpuTensor};

/// QLinearAveragePool over int8 or uint8 (`SIGNED`) packed four per word, one thread per output
/// word.
pub const POOL2D_QLINEAR_AVERAGE: ShaderProgram = ShaderProgram {
    name: "pool2d_qlinear_average",
    parts: &[
        include_str!("../../../shaders/pool2d_qlinear_average.wgsl"),
        include_str!("../../../shaders/q8_word_output.wgsl"),
    ],
    needs_f16: false,
};

/// QLinearGlobalAveragePool over int8 or uint8 packed four per word, one workgroup per four
/// planes.
pub const GLOBAL_POOL_QLINEAR: ShaderProgram = ShaderProgram {
    name: "global_pool_qlinear",
    parts: &[include_str!("../../../shaders/pool_global_qlinear.wgsl")],
    needs_f16: false,
};

/// `QPoolParams` in `pool2d_qlinear_average.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct QPoolParams {
    planes: u32,
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    kernel: [u32; 2],
    strides: [u32; 2],
    pads: [u32; 4],
    dilations: [u32; 2],
    count: u32,
    input_zero_point: i32,
    output_zero_point: i32,
}

/// `QGlobalPoolParams` in `pool_global_qlinear.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct QGlobalPoolParams {
    planes: u32,
    plane_len: u32,
    input_zero_point: i32,
    output_zero_point: i32,
    multiplier: f32,
}

/// The input checks both launchers share: the quantization, and `input` of its dtype.
fn check_input(op: &'static str, input: &GpuTensor, quant: &QLinearPoolQuant) -> Result<()> {
    quant.check()?;
    if input.dtype() != quant.dtype {
        return Err(Error::DTypeMismatch {
            op,
            expected: quant.dtype,
            got: input.dtype(),
        });
    }
    Ok(())
}

/// `SIGNED` of both shaders.
fn signed(quant: &QLinearPoolQuant) -> (&'static str, f64) {
    ("SIGNED", f64::from(u8::from(quant.dtype == DType::I8)))
}

/// QLinearAveragePool over an NCHW int8 or uint8 tensor (the dtype `quant` names), bit for bit
/// as [`reference_qlinear_average_pool2d`](super::reference_qlinear_average_pool2d).
pub fn qlinear_average_pool2d(
    gpu: &Gpu,
    input: &GpuTensor,
    options: &Pool2dOptions,
    quant: &QLinearPoolQuant,
) -> Result<GpuTensor> {
    check_input("qlinear_average_pool2d", input, quant)?;
    let taps = options.kernel[0] * options.kernel[1];
    check_taps(taps)?;
    let output_shape = pool2d_output_shape(input.shape(), options)?;
    let [n, c, in_h, in_w] = nchw("qlinear_average_pool2d", input.shape())?;
    let [_, _, out_h, out_w] = output_shape;
    let output = GpuTensor::uninit(gpu, &output_shape, input.dtype())?;
    if output.is_empty() {
        return Ok(output);
    }
    to_u32("pool2d input elements", input.len())?;
    let as_u32 = |values: &[usize]| -> Result<Vec<u32>> {
        values.iter().map(|&v| to_u32("pool2d window", v)).collect()
    };
    let pair = |values: [usize; 2]| -> Result<[u32; 2]> {
        Ok([
            to_u32("pool2d window", values[0])?,
            to_u32("pool2d window", values[1])?,
        ])
    };
    let pads = as_u32(&options.pads)?;
    let params = QPoolParams {
        planes: to_u32("pool2d planes", n * c)?,
        in_h: to_u32("pool2d height", in_h)?,
        in_w: to_u32("pool2d width", in_w)?,
        out_h: to_u32("pool2d output height", out_h)?,
        out_w: to_u32("pool2d output width", out_w)?,
        kernel: pair(options.kernel)?,
        strides: pair(options.strides)?,
        pads: [pads[0], pads[1], pads[2], pads[3]],
        dilations: pair(options.dilations)?,
        count: to_u32("pool2d output elements", output.len())?,
        input_zero_point: quant.input_zero_point,
        output_zero_point: quant.output_zero_point,
    };
    let multipliers = gpu.upload_bytes(bytemuck::cast_slice(&quant.multipliers(taps)))?;
    let constants = [
        signed(quant),
        (
            "COUNT_INCLUDE_PAD",
            f64::from(u8::from(options.count_include_pad)),
        ),
    ];
    let pipeline = gpu.pipeline(&POOL2D_QLINEAR_AVERAGE, &constants)?;
    let bindings = [
        (0, Binding::Storage(input.buffer())),
        (1, Binding::Storage(&multipliers)),
        (2, Binding::Storage(output.buffer())),
        (3, Binding::Uniform(bytemuck::bytes_of(&params))),
    ];
    let grid = grid_for(gpu, output.len().div_ceil(4), ELEMENTWISE_WORKGROUP)?;
    gpu.dispatch(&pipeline, &bindings, grid)?;
    Ok(output)
}

/// QLinearGlobalAveragePool over an int8 or uint8 tensor of rank ≥ 3, shaped `[N, C, 1, …]`, bit
/// for bit as
/// [`reference_qlinear_global_average_pool`](super::reference_qlinear_global_average_pool).
pub fn qlinear_global_average_pool(
    gpu: &Gpu,
    input: &GpuTensor,
    quant: &QLinearPoolQuant,
) -> Result<GpuTensor> {
    const OP: &str = "qlinear_global_average_pool";
    check_input(OP, input, quant)?;
    let (shape, output_shape, plane_len) = global_shapes(OP, input.shape())?;
    check_taps(plane_len)?;
    let planes = shape[0] * shape[1];
    let output = GpuTensor::uninit(gpu, &output_shape, input.dtype())?;
    if output.is_empty() {
        return Ok(output);
    }
    to_u32("global pool input elements", input.len())?;
    let params = QGlobalPoolParams {
        planes: to_u32("global pool planes", planes)?,
        plane_len: to_u32("global pool plane size", plane_len)?,
        input_zero_point: quant.input_zero_point,
        output_zero_point: quant.output_zero_point,
        multiplier: quant.multiplier(plane_len),
    };
    let pipeline = gpu.pipeline(&GLOBAL_POOL_QLINEAR, &[signed(quant)])?;
    let bindings = [
        (0, Binding::Storage(input.buffer())),
        (1, Binding::Storage(output.buffer())),
        (2, Binding::Uniform(bytemuck::bytes_of(&params))),
    ];
    gpu.dispatch(&pipeline, &bindings, grid_for(gpu, planes.div_ceil(4), 1)?)?;
    Ok(output)
}
