//! Self-check rows for BatchNormalization, LayerNormalization, Gemm and QuantizeLinear.

use crate::check::{compare, SeededRng};
use crate::device::Gpu;
use crate::error::Result;
use crate::ops::gemm::{gemm, reference_gemm, GemmOptions};
use crate::ops::normalization::{
    batch_normalization, layer_normalization, reference_batchnorm, reference_layernorm,
    BatchNormParams, LayerNormOptions,
};
use crate::ops::quantize::{
    quantize_linear, quotient_near_tie, reference_quantize_linear, QdqAttributes, QdqLayout,
};
use crate::selfcheck::{measure, CheckRow, Throughput};
use crate::tensor::{DType, GpuTensor};

/// Bytes an element-wise f32 op moves per element: one read, one write.
const F32_READ_WRITE: f64 = 8.0;

fn shape_label(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

fn batchnorm_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let shape = [4, 32, 32, 32];
    let channels = shape[1];
    let params = BatchNormParams {
        scale: rng.uniform_vec(channels, -2.0, 2.0),
        bias: rng.uniform_vec(channels, -1.0, 1.0),
        mean: rng.uniform_vec(channels, -1.0, 1.0),
        var: rng.uniform_vec(channels, 0.01, 4.0),
        epsilon: 1e-5,
    };
    let x = rng.uniform_vec(shape.iter().product(), -3.0, 3.0);
    let x_gpu = GpuTensor::upload(gpu, &shape, &x)?;
    let reference = reference_batchnorm(&x, &shape, &params)?;
    let run = || batch_normalization(gpu, &x_gpu, &params);
    let got = run()?.read::<f32>(gpu)?;
    let comparison = compare(
        "batchnorm f32",
        &got,
        &reference.values(),
        &reference.tolerances(),
    );
    let bytes = x.len() as f64 * F32_READ_WRITE;
    measure(
        gpu,
        shape_label(&shape),
        comparison,
        Throughput::bandwidth(bytes),
        || run().map(drop),
    )
}

fn layernorm_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let shape = [256, 1024];
    let x = rng.uniform_vec(shape.iter().product(), -3.0, 3.0);
    let scale = rng.uniform_vec(shape[1], -2.0, 2.0);
    let bias = rng.uniform_vec(shape[1], -1.0, 1.0);
    let options = LayerNormOptions::default();
    let x_gpu = GpuTensor::upload(gpu, &shape, &x)?;
    let scale_gpu = GpuTensor::upload(gpu, &shape[1..], &scale)?;
    let bias_gpu = GpuTensor::upload(gpu, &shape[1..], &bias)?;
    let reference = reference_layernorm(&x, &shape, &scale, Some(&bias), &options)?;
    let run = || layer_normalization(gpu, &x_gpu, &scale_gpu, Some(&bias_gpu), &options);
    let got = run()?.read::<f32>(gpu)?;
    let comparison = compare(
        "layernorm f32",
        &got,
        &reference.values(),
        &reference.tolerances,
    );
    let bytes = x.len() as f64 * F32_READ_WRITE;
    measure(
        gpu,
        shape_label(&shape),
        comparison,
        Throughput::bandwidth(bytes),
        || run().map(drop),
    )
}

fn gemm_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let (m, n, k) = (256, 256, 256);
    let options = GemmOptions {
        alpha: 0.5,
        beta: 2.0,
        trans_a: true,
        trans_b: true,
    };
    let a = rng.uniform_vec(k * m, -1.0, 1.0);
    let b = rng.uniform_vec(n * k, -1.0, 1.0);
    let c = rng.uniform_vec(m, -1.0, 1.0);
    let a_gpu = GpuTensor::upload(gpu, &[k, m], &a)?;
    let b_gpu = GpuTensor::upload(gpu, &[n, k], &b)?;
    let c_gpu = GpuTensor::upload(gpu, &[m, 1], &c)?;
    let reference = reference_gemm(&a, &[k, m], &b, &[n, k], Some((&c, &[m, 1])), &options)?;
    let run = || gemm(gpu, &a_gpu, &b_gpu, Some(&c_gpu), &options);
    let got = run()?.read::<f32>(gpu)?;
    let comparison = compare(
        "gemm f32 (transA, transB)",
        &got,
        &reference.values(),
        &reference.tolerances(),
    );
    let flops = 2.0 * (m * n * k) as f64;
    measure(
        gpu,
        format!("{m}x{n}x{k}"),
        comparison,
        Throughput::gflops(flops),
        || run().map(drop),
    )
}

fn quantize_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let shape = [64, 128, 65];
    let scale_shape = [64, 128, 3];
    let attributes = QdqAttributes {
        axis: -1,
        block_size: 32,
    };
    let x = rng.uniform_vec(shape.iter().product(), -4.0, 4.0);
    let scale = rng.uniform_vec(scale_shape.iter().product(), 0.01, 0.05);
    let zero_point = rng.int_vec(scale.len(), -10, 10);
    let zero_point_i8: Vec<i8> = zero_point.iter().map(|&v| v as i8).collect();
    let x_gpu = GpuTensor::upload(gpu, &shape, &x)?;
    let scale_gpu = GpuTensor::upload(gpu, &scale_shape, &scale)?;
    let zero_gpu = GpuTensor::upload(gpu, &scale_shape, &zero_point_i8)?;
    let want = reference_quantize_linear(
        &x,
        &shape,
        &scale,
        &scale_shape,
        Some(&zero_point),
        DType::I8,
        &attributes,
    )?;
    let layout = QdqLayout::resolve("selfcheck", &shape, &scale_shape, None, &attributes)?;
    let tolerances: Vec<f32> = (0..x.len())
        .map(|i| {
            f32::from(u8::from(quotient_near_tie(
                x[i],
                scale[layout.param_index(i)],
            )))
        })
        .collect();
    let run = || quantize_linear(gpu, &x_gpu, &scale_gpu, Some(&zero_gpu), &attributes, None);
    let got: Vec<f32> = run()?
        .read::<i8>(gpu)?
        .iter()
        .map(|&v| f32::from(v))
        .collect();
    let want: Vec<f32> = want.iter().map(|&v| v as f32).collect();
    let comparison = compare("quantize_linear i8 blocked", &got, &want, &tolerances);
    let bytes = x.len() as f64 * 5.0;
    measure(
        gpu,
        shape_label(&shape),
        comparison,
        Throughput::bandwidth(bytes),
        || run().map(drop),
    )
}

/// BatchNorm, LayerNorm, Gemm and QuantizeLinear rows.
pub(super) fn rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    Ok(vec![
        batchnorm_row(gpu, rng)?,
        layernorm_row(gpu, rng)?,
        gemm_row(gpu, rng)?,
        quantize_row(gpu, rng)?,
    ])
}
