//! The kernel benchmarks on the `cpu` backend: kiln's own CPU references (the plain-Rust
//! specifications the GPU kernels are tested against, single-threaded, accumulating in f64), timed
//! on the same problems so every GPU figure has a reference row beside it.

use half::f16;

use crate::bench::kernels::gpu::{a_shape, no_int4_conv, quantized_conv_operands, CONV_QUANT};
use crate::bench::kernels::{
    ConvLayer, KernelBenchConfig, KernelCase, MatmulSize, Problem, Q4_GROUP,
};
use crate::bench::measure::{time_cpu, IterationSettings, Timings};
use crate::bench::report::{BackendRun, DeviceReport, Precision};
use crate::bench::roofline;
use crate::check::SeededRng;
use crate::error::Result;
use crate::ops::conv::{reference_conv2d, reference_conv2d_f16, reference_conv2d_q8};
use crate::ops::matmul::f16::reference_matmul_f16;
use crate::ops::matmul::int4::reference_matmul_q4;
use crate::ops::matmul::int8::reference_q8;
use crate::ops::matmul::{reference_matmul, MatmulDims};
use crate::ops::Activation;
use crate::tensor::{Q4GroupSize, Q4Weights, Q8Activations, Q8Scheme, Q8Weights};

fn to_f16(values: &[f32]) -> Vec<f16> {
    values.iter().map(|&v| f16::from_f32(v)).collect()
}

fn matmul(
    iterations: &IterationSettings,
    rng: &mut SeededRng,
    size: MatmulSize,
    precision: Precision,
    batch: usize,
) -> Result<Timings> {
    let shape = a_shape(size, batch);
    let a = rng.uniform_vec(batch * size.m * size.k, -1.0, 1.0);
    let b = rng.uniform_vec(size.k * size.n, -1.0, 1.0);
    let dims = MatmulDims::infer("bench", &shape, &[size.k, size.n], false)?;
    let id = Activation::Identity;
    match precision {
        Precision::F32 => time_cpu(iterations, || {
            std::hint::black_box(reference_matmul(&a, &b, &dims, None, id));
            Ok(())
        }),
        Precision::F16 => {
            let (a, b) = (to_f16(&a), to_f16(&b));
            time_cpu(iterations, || {
                std::hint::black_box(reference_matmul_f16(&a, &b, &dims, None, id));
                Ok(())
            })
        }
        Precision::Int8 => {
            let a = Q8Activations::calibrate(&a, batch * size.m, size.k, Q8Scheme::Asymmetric)?;
            let w = Q8Weights::quantize_kn(&b, size.k, size.n, Q8Scheme::Symmetric)?;
            time_cpu(iterations, || {
                std::hint::black_box(reference_q8(&a, &w, batch, size.m, None, id));
                Ok(())
            })
        }
        Precision::Int4 => {
            let group = Q4GroupSize::from_elements(Q4_GROUP)?;
            let w = Q4Weights::quantize(&b, size.n, size.k, group, false)?;
            time_cpu(iterations, || {
                std::hint::black_box(reference_matmul_q4(&a, &shape, &w, None, id)?);
                Ok(())
            })
        }
    }
}

fn conv(
    iterations: &IterationSettings,
    rng: &mut SeededRng,
    layer: ConvLayer,
    precision: Precision,
    batch: usize,
) -> Result<Timings> {
    let (x_shape, w_shape) = (layer.input_shape(batch), layer.weight_shape());
    let x = rng.uniform_vec(x_shape.iter().product(), -1.0, 1.0);
    let w = rng.uniform_vec(w_shape.iter().product(), -1.0, 1.0);
    let params = layer.params();
    let id = Activation::Identity;
    match precision {
        Precision::F32 => time_cpu(iterations, || {
            std::hint::black_box(reference_conv2d(
                &x, &x_shape, &w, &w_shape, None, &params, id,
            )?);
            Ok(())
        }),
        Precision::F16 => {
            let (x, w) = (to_f16(&x), to_f16(&w));
            time_cpu(iterations, || {
                let reference = reference_conv2d_f16(&x, &x_shape, &w, &w_shape, None, &params, id);
                std::hint::black_box(reference?);
                Ok(())
            })
        }
        Precision::Int8 => {
            let (x, w, scales) = quantized_conv_operands(rng, layer, batch);
            let quant = CONV_QUANT;
            time_cpu(iterations, || {
                let output =
                    reference_conv2d_q8(&x, &x_shape, &w, &w_shape, &scales, None, &quant, &params);
                std::hint::black_box(output?);
                Ok(())
            })
        }
        Precision::Int4 => Err(no_int4_conv()),
    }
}

/// Runs every case of `config` as kiln's CPU references, measuring the host thread's roofline
/// first; `progress` hears of each case as it finishes.
pub fn run(
    config: &KernelBenchConfig,
    progress: &mut dyn FnMut(&KernelCase),
) -> Result<BackendRun> {
    config.validate()?;
    let roof = match &config.roofline {
        Some(settings) => Some(roofline::measure_cpu(settings)?),
        None => None,
    };
    let mut rng = SeededRng::new(2027);
    let mut results = Vec::new();
    for case in config.cases() {
        let iterations = &config.iterations;
        let timings = match case.problem {
            Problem::Matmul(size) => {
                matmul(iterations, &mut rng, size, case.precision, case.batch)?
            }
            Problem::Conv(layer) => conv(iterations, &mut rng, layer, case.precision, case.batch)?,
        };
        results.push(case.result("reference", &timings, roof.as_ref())?);
        progress(&case);
    }
    Ok(BackendRun {
        device: DeviceReport::host_cpu(),
        roofline: roof,
        results,
    })
}
