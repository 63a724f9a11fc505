//! The kernel benchmarks on a GPU: each case's operands uploaded once, then its launcher timed by
//! [`time_gpu`] with GPU timestamps where the adapter has them. Each case runs the path kiln
//! prefers on this device (native or packed f16, builtin or unpacked int8 dot products), named in
//! the result's `variant`.

use half::f16;

use crate::bench::kernels::{
    ConvLayer, KernelBenchConfig, KernelCase, MatmulSize, Problem, Q4_GROUP,
};
use crate::bench::measure::{time_gpu, IterationSettings, Timings};
use crate::bench::report::{BackendRun, DeviceReport, Precision};
use crate::bench::roofline;
use crate::check::SeededRng;
use crate::device::timestamps::TimestampQueries;
use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::ops::conv::{conv2d_f16, conv2d_f32, conv2d_q8, GpuQ8ConvWeights, QLinearQuant};
use crate::ops::matmul::f16::{matmul_f16, F16Path};
use crate::ops::matmul::f32::matmul_f32;
use crate::ops::matmul::int4::{matmul_q4, GpuQ4Weights};
use crate::ops::matmul::int8::{matmul_q8, Dot4Path, GpuQ8Activations, GpuQ8Weights};
use crate::ops::matmul::MatmulOptions;
use crate::ops::Activation;
use crate::tensor::{GpuTensor, Q4GroupSize, Q4Weights, Q8Activations, Q8Scheme, Q8Weights};

/// The quantization of the int8 conv's input and output: any fixed values time the same.
pub(crate) const CONV_QUANT: QLinearQuant = QLinearQuant {
    input_scale: 0.02,
    input_zero_point: -3,
    output_scale: 0.5,
    output_zero_point: 2,
};

/// Timing context shared by every case on one GPU.
struct Timer<'a> {
    gpu: &'a Gpu,
    iterations: IterationSettings,
    timestamps: Option<TimestampQueries>,
}

impl Timer<'_> {
    fn time(&mut self, record: impl FnMut() -> Result<()>) -> Result<Timings> {
        time_gpu(self.gpu, &self.iterations, self.timestamps.as_mut(), record)
    }
}

fn f16_name(gpu: &Gpu) -> &'static str {
    match F16Path::preferred(gpu) {
        F16Path::Native => "f16 native",
        F16Path::Packed => "f16 packed",
    }
}

fn dot4_name(gpu: &Gpu) -> &'static str {
    match Dot4Path::preferred(gpu) {
        Dot4Path::Builtin => "dot4 builtin",
        Dot4Path::Unpacked => "dot4 unpacked",
    }
}

/// `[M, K]` at batch 1, else `[batch, M, K]`.
pub(crate) fn a_shape(size: MatmulSize, batch: usize) -> Vec<usize> {
    if batch == 1 {
        vec![size.m, size.k]
    } else {
        vec![batch, size.m, size.k]
    }
}

fn to_f16(values: Vec<f32>) -> Vec<f16> {
    values.into_iter().map(f16::from_f32).collect()
}

fn matmul(
    timer: &mut Timer,
    rng: &mut SeededRng,
    size: MatmulSize,
    precision: Precision,
    batch: usize,
) -> Result<(String, Timings)> {
    let gpu = timer.gpu;
    let shape = a_shape(size, batch);
    let a = rng.uniform_vec(batch * size.m * size.k, -1.0, 1.0);
    let b = rng.uniform_vec(size.k * size.n, -1.0, 1.0);
    let options = MatmulOptions::default();
    let id = Activation::Identity;
    match precision {
        Precision::F32 => {
            let (a, b) = (
                GpuTensor::upload(gpu, &shape, &a)?,
                GpuTensor::upload(gpu, &[size.k, size.n], &b)?,
            );
            let timings = timer.time(|| matmul_f32(gpu, &a, &b, None, &options).map(drop))?;
            Ok(("f32".into(), timings))
        }
        Precision::F16 => {
            let a = GpuTensor::upload(gpu, &shape, &to_f16(a))?;
            let b = GpuTensor::upload(gpu, &[size.k, size.n], &to_f16(b))?;
            let timings = timer.time(|| matmul_f16(gpu, &a, &b, None, &options).map(drop))?;
            Ok((f16_name(gpu).into(), timings))
        }
        Precision::Int8 => {
            let rows = batch * size.m;
            let a = Q8Activations::calibrate(&a, rows, size.k, Q8Scheme::Asymmetric)?;
            let a = GpuQ8Activations::upload(gpu, &a, batch, size.m)?;
            let w = Q8Weights::quantize_kn(&b, size.k, size.n, Q8Scheme::Symmetric)?;
            let w = GpuQ8Weights::upload(gpu, &w)?;
            let path = Dot4Path::preferred(gpu);
            let timings = timer.time(|| matmul_q8(gpu, &a, &w, None, id, path).map(drop))?;
            Ok((dot4_name(gpu).into(), timings))
        }
        Precision::Int4 => {
            let group = Q4GroupSize::from_elements(Q4_GROUP)?;
            let w = Q4Weights::quantize(&b, size.n, size.k, group, false)?;
            let w = GpuQ4Weights::upload(gpu, &w)?;
            let a = GpuTensor::upload(gpu, &shape, &a)?;
            let timings = timer.time(|| matmul_q4(gpu, &a, &w, None, id).map(drop))?;
            Ok((format!("q4 g{Q4_GROUP}, f32 act"), timings))
        }
    }
}

fn conv(
    timer: &mut Timer,
    rng: &mut SeededRng,
    layer: ConvLayer,
    precision: Precision,
    batch: usize,
) -> Result<(String, Timings)> {
    let gpu = timer.gpu;
    let (x_shape, w_shape) = (layer.input_shape(batch), layer.weight_shape());
    let x = rng.uniform_vec(x_shape.iter().product(), -1.0, 1.0);
    let w = rng.uniform_vec(w_shape.iter().product(), -1.0, 1.0);
    let params = layer.params();
    let id = Activation::Identity;
    match precision {
        Precision::F32 => {
            let (x, w) = (
                GpuTensor::upload(gpu, &x_shape, &x)?,
                GpuTensor::upload(gpu, &w_shape, &w)?,
            );
            let timings = timer.time(|| conv2d_f32(gpu, &x, &w, None, &params, id).map(drop))?;
            Ok(("f32".into(), timings))
        }
        Precision::F16 => {
            let x = GpuTensor::upload(gpu, &x_shape, &to_f16(x))?;
            let w = GpuTensor::upload(gpu, &w_shape, &to_f16(w))?;
            let timings = timer.time(|| conv2d_f16(gpu, &x, &w, None, &params, id).map(drop))?;
            Ok((f16_name(gpu).into(), timings))
        }
        Precision::Int8 => {
            let (x, w, scales) = quantized_conv_operands(rng, layer, batch);
            let [out, c, kh, kw] = w_shape;
            let weights = Q8Weights::from_parts(out, c * kh * kw, &w, scales, vec![0; out])?;
            let x = GpuTensor::upload(gpu, &x_shape, &x)?;
            let w = GpuQ8ConvWeights::upload(gpu, &weights, w_shape)?;
            let path = Dot4Path::preferred(gpu);
            let timings = timer
                .time(|| conv2d_q8(gpu, &x, &w, None, &CONV_QUANT, &params, path).map(drop))?;
            Ok((dot4_name(gpu).into(), timings))
        }
        Precision::Int4 => Err(no_int4_conv()),
    }
}

/// kiln has no int4 convolution ([`KernelBenchConfig::cases`] leaves it out).
pub(crate) fn no_int4_conv() -> Error {
    Error::Unsupported {
        location: "bench kernels: conv2d int4".into(),
        detail: "kiln has no int4 convolution".into(),
    }
}

/// Random int8 input values and `[O, C·KH·KW]` weights with per-channel scales, for the int8 conv.
pub(crate) fn quantized_conv_operands(
    rng: &mut SeededRng,
    layer: ConvLayer,
    batch: usize,
) -> (Vec<i8>, Vec<i8>, Vec<f32>) {
    let mut random_i8 =
        |count: usize| -> Vec<i8> { (0..count).map(|_| rng.int_in(-128, 127) as i8).collect() };
    let x = random_i8(layer.input_shape(batch).iter().product());
    let w = random_i8(layer.weight_shape().iter().product());
    let scales = rng.uniform_vec(layer.out_channels, 0.002, 0.004);
    (x, w, scales)
}

/// Runs every case of `config` on `gpu`, measuring the roofline first; `progress` hears of each
/// case as it finishes.
pub fn run(
    gpu: &Gpu,
    config: &KernelBenchConfig,
    progress: &mut dyn FnMut(&KernelCase),
) -> Result<BackendRun> {
    config.validate()?;
    let capacity = 2 * config.iterations.iterations as u32;
    let mut timer = Timer {
        gpu,
        iterations: config.iterations,
        timestamps: TimestampQueries::new(gpu, capacity.max(64)),
    };
    let roof = match &config.roofline {
        Some(settings) => Some(roofline::measure_gpu(
            gpu,
            settings,
            timer.timestamps.as_mut(),
        )?),
        None => None,
    };
    let mut rng = SeededRng::new(2027);
    let mut results = Vec::new();
    for case in config.cases() {
        let (variant, timings) = match case.problem {
            Problem::Matmul(size) => {
                matmul(&mut timer, &mut rng, size, case.precision, case.batch)?
            }
            Problem::Conv(layer) => conv(&mut timer, &mut rng, layer, case.precision, case.batch)?,
        };
        results.push(case.result(&variant, &timings, roof.as_ref())?);
        progress(&case);
    }
    Ok(BackendRun {
        device: DeviceReport::of_gpu(gpu),
        roofline: roof,
        results,
    })
}
