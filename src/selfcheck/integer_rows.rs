//! Self-check rows for the integer kernels of the QDQ lowerings, each held to its CPU reference
//! bit for bit: QLinearAdd (uint8, broadcast), the int8 lookup table, QLinearGlobalAveragePool,
//! the depthwise QLinearConv kernel, QLinearMatMul's requantizing store and DynamicQuantizeLinear.

use crate::check::{compare_exact, SeededRng};
use crate::device::Gpu;
use crate::error::Result;
use crate::ops::conv::{
    conv2d_q8_depthwise, reference_conv2d_q8, Conv2dParams, GpuQ8ConvWeights, Q8ConvEpilogue,
    QLinearQuant,
};
use crate::ops::matmul::int8::{
    integer_weights, qlinear_matmul, reference_matmul_integer, reference_qlinear_matmul, Dot4Path,
    GpuQ8Weights, IntegerProduct, Requantization,
};
use crate::ops::pooling::{
    qlinear_global_average_pool, reference_qlinear_global_average_pool, QLinearPoolQuant,
};
use crate::ops::quantize::{dynamic_quantize_linear, reference_dynamic_quantize_linear};
use crate::ops::quantized_elementwise::{
    lookup_table, qlinear_binary, reference_lookup_table, reference_qlinear_binary,
    QLinearBinaryOp, QuantizedOperand, TensorQuantization,
};
use crate::selfcheck::{measure, CheckRow, Throughput};
use crate::tensor::{DType, GpuTensor, HostTensor, Q8Weights, TensorData};

/// The NCHW activation of every row but QLinearMatMul: odd sizes, so no plane fills whole words.
const ACTIVATION: [usize; 4] = [1, 33, 29, 31];
/// QLinearMatMul's `[M, K, N]`: odd, and beyond one 64-row tile in N.
const MATMUL_DIMS: [usize; 3] = [33, 67, 65];

/// `values` (in `dtype`'s range) uploaded as an int8 or uint8 tensor.
fn upload_8bit(gpu: &Gpu, shape: &[usize], values: &[i32], dtype: DType) -> Result<GpuTensor> {
    match dtype {
        DType::I8 => GpuTensor::upload(
            gpu,
            shape,
            &values.iter().map(|&v| v as i8).collect::<Vec<_>>(),
        ),
        _ => GpuTensor::upload(
            gpu,
            shape,
            &values.iter().map(|&v| v as u8).collect::<Vec<_>>(),
        ),
    }
}

/// An int8 or uint8 tensor read back as i32.
fn read_8bit(gpu: &Gpu, tensor: &GpuTensor) -> Result<Vec<i32>> {
    Ok(match tensor.dtype() {
        DType::I8 => tensor.read::<i8>(gpu)?.into_iter().map(i32::from).collect(),
        _ => tensor.read::<u8>(gpu)?.into_iter().map(i32::from).collect(),
    })
}

/// A shape's dimensions joined by `x`.
fn shape_label(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    dims.join("x")
}

/// Elements of the activation.
fn activation_len() -> usize {
    ACTIVATION.iter().product()
}

/// QLinearAdd of a uint8 activation and a per-channel `[1, C, 1, 1]` operand; zero points at the
/// middle and bottom of uint8's range, and some sums saturate.
fn qlinear_add_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let b_shape = [1, ACTIVATION[1], 1, 1];
    let quant = |scale, zero_point| TensorQuantization {
        scale,
        zero_point,
        dtype: DType::U8,
    };
    let (a_quant, b_quant, y_quant) = (quant(0.02, 128), quant(0.03, 0), quant(0.05, 100));
    let a = rng.int_vec(activation_len(), 0, 255);
    let b = rng.int_vec(ACTIVATION[1], 0, 255);
    let operand = |values, shape, quantization| QuantizedOperand {
        values,
        shape,
        quantization,
    };
    let (want, _) = reference_qlinear_binary(
        QLinearBinaryOp::Add,
        &operand(&a, &ACTIVATION, a_quant),
        &operand(&b, &b_shape, b_quant),
        &y_quant,
    )?;
    let a_gpu = upload_8bit(gpu, &ACTIVATION, &a, DType::U8)?;
    let b_gpu = upload_8bit(gpu, &b_shape, &b, DType::U8)?;
    let run = || {
        let (a, b) = ((&a_gpu, &a_quant), (&b_gpu, &b_quant));
        qlinear_binary(gpu, QLinearBinaryOp::Add, a, b, &y_quant)
    };
    let got = read_8bit(gpu, &run()?)?;
    let comparison = compare_exact("QLinearAdd uint8 broadcast", &got, &want);
    let bytes = (2 * a.len() + b.len()) as f64;
    let work = Throughput::bandwidth(bytes);
    measure(gpu, shape_label(&ACTIVATION), comparison, work, || {
        run().map(drop)
    })
}

/// An int8 activation through a random 256-entry int8 table.
fn lookup_table_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let x = rng.int_vec(activation_len(), -128, 127);
    let table = rng.int_vec(256, -128, 127);
    let want = reference_lookup_table(&x, DType::I8, &table)?;
    let x_gpu = upload_8bit(gpu, &ACTIVATION, &x, DType::I8)?;
    let table_gpu = upload_8bit(gpu, &[256], &table, DType::I8)?;
    let run = || lookup_table(gpu, &x_gpu, &table_gpu);
    let got = read_8bit(gpu, &run()?)?;
    let comparison = compare_exact("lookup table int8", &got, &want);
    let work = Throughput::bandwidth((2 * x.len() + table.len()) as f64);
    measure(gpu, shape_label(&ACTIVATION), comparison, work, || {
        run().map(drop)
    })
}

/// QLinearGlobalAveragePool over int8 planes of 29·31 values; the output scale puts a typical
/// plane mean about ten steps from the zero point.
fn global_average_pool_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let quant = QLinearPoolQuant {
        input_scale: 0.02,
        input_zero_point: -5,
        output_scale: 0.005,
        output_zero_point: -3,
        dtype: DType::I8,
    };
    let x = rng.int_vec(activation_len(), -128, 127);
    let plane_len = ACTIVATION[2] * ACTIVATION[3];
    let want = reference_qlinear_global_average_pool(&x, plane_len, &quant)?;
    let x_gpu = upload_8bit(gpu, &ACTIVATION, &x, DType::I8)?;
    let run = || qlinear_global_average_pool(gpu, &x_gpu, &quant);
    let got = read_8bit(gpu, &run()?)?;
    let comparison = compare_exact("QLinearGlobalAveragePool int8", &got, &want);
    let work = Throughput::bandwidth((x.len() + want.len()) as f64);
    measure(gpu, shape_label(&ACTIVATION), comparison, work, || {
        run().map(drop)
    })
}

/// The depthwise int8 QLinearConv kernel (groups = C, 3×3, pad 1); the output scale puts a
/// typical accumulator (74² · 3 at the median weight scale 0.004) about 60 steps out.
fn depthwise_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let channels = ACTIVATION[1];
    let w_shape = [channels, 1, 3, 3];
    let params = Conv2dParams {
        strides: [1, 1],
        pads: [1; 4],
        dilations: [1, 1],
        groups: channels,
    };
    let quant = QLinearQuant {
        input_scale: 0.02,
        input_zero_point: -7,
        output_scale: 0.02,
        output_zero_point: 3,
    };
    let random_i8 = |rng: &mut SeededRng, count: usize| -> Vec<i8> {
        (0..count).map(|_| rng.int_in(-128, 127) as i8).collect()
    };
    let x = random_i8(rng, activation_len());
    let w = random_i8(rng, channels * 9);
    let scales = rng.uniform_vec(channels, 0.002, 0.006);
    let want = reference_conv2d_q8(
        &x,
        &ACTIVATION,
        &w,
        &w_shape,
        &scales,
        None,
        &quant,
        &params,
    )?;
    let weights = Q8Weights::from_parts(channels, 9, &w, scales, vec![0; channels])?;
    let w_gpu = GpuQ8ConvWeights::upload(gpu, &weights, w_shape)?;
    let x_gpu = GpuTensor::upload(gpu, &ACTIVATION, &x)?;
    let epilogue = Q8ConvEpilogue::default();
    let run = || conv2d_q8_depthwise(gpu, (&x_gpu, &w_gpu, None), &quant, &params, epilogue);
    let widen = |values: &[i8]| values.iter().map(|&q| i32::from(q)).collect::<Vec<_>>();
    let got = widen(&run()?.read::<i8>(gpu)?);
    let comparison = compare_exact("QLinearConv int8 depthwise", &got, &widen(&want));
    let work = Throughput::gops((2 * want.len() * 9) as f64);
    measure(gpu, shape_label(&ACTIVATION), comparison, work, || {
        run().map(drop)
    })
}

/// QLinearMatMul: uint8 `A` (zero point 128) times int8 `B` (zero point −3) with per-column
/// scales, stored as int8; the output scale puts a typical accumulator (74² · √K) about 60 steps
/// out at the median column scale.
fn qlinear_matmul_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let [m, k, n] = MATMUL_DIMS;
    let (a_zero, b_zero) = (128, -3);
    let a: Vec<i64> = (rng.int_vec(m * k, 0, 255).into_iter())
        .map(i64::from)
        .collect();
    let b: Vec<i64> = (rng.int_vec(k * n, -128, 127).into_iter())
        .map(i64::from)
        .collect();
    let b_scales = rng.uniform_vec(n, 0.002, 0.006);
    let requant = Requantization::new(0.02, &b_scales, 0.06, -5, DType::I8)?;
    let accumulators = reference_matmul_integer(&IntegerProduct {
        a: &a,
        b: &b,
        dims: MATMUL_DIMS,
        a_zero_points: &vec![a_zero; m],
        b_zero_points: &vec![b_zero; n],
    });
    // |acc| ≤ K · 255 · 255 < 2³¹: the narrowing is exact.
    let accumulators: Vec<i32> = accumulators.into_iter().map(|acc| acc as i32).collect();
    let want = reference_qlinear_matmul(&accumulators, &requant);
    let b_host = HostTensor::new(
        &[k, n],
        TensorData::I8(b.iter().map(|&v| v as i8).collect()),
    )?;
    let b_zero_host = HostTensor::new(&[], TensorData::I8(vec![b_zero as i8]))?;
    let w_gpu = GpuQ8Weights::upload(gpu, &integer_weights(&b_host, Some(&b_zero_host))?)?;
    let a_gpu = GpuTensor::upload(
        gpu,
        &[m, k],
        &a.iter().map(|&v| v as u8).collect::<Vec<_>>(),
    )?;
    let a_zero_gpu = GpuTensor::upload(gpu, &[], &[a_zero as u8])?;
    let path = Dot4Path::preferred(gpu);
    let run = || qlinear_matmul(gpu, &a_gpu, Some(&a_zero_gpu), &w_gpu, &requant, path);
    let name = match path {
        Dot4Path::Builtin => "QLinearMatMul dot4 builtin",
        Dot4Path::Unpacked => "QLinearMatMul dot4 unpacked",
    };
    let comparison = compare_exact(name, &read_8bit(gpu, &run()?)?, &want);
    let work = Throughput::gops((2 * m * n * k) as f64);
    let shape = format!("{m}x{n}x{k}");
    measure(gpu, shape, comparison, work, || run().map(drop))
}

/// DynamicQuantizeLinear of a mixed-sign f32 activation: the compared values are `y` followed by
/// the zero point and the scale's bits, so all three outputs are held exact.
fn dynamic_quantize_row(gpu: &Gpu, rng: &mut SeededRng) -> Result<CheckRow> {
    let x = rng.uniform_vec(activation_len(), -0.7, 1.3);
    let reference = reference_dynamic_quantize_linear(&x);
    let x_gpu = GpuTensor::upload(gpu, &ACTIVATION, &x)?;
    let run = || dynamic_quantize_linear(gpu, &x_gpu);
    let outputs = |y: &[u8], scale: f32, zero_point: u8| -> Vec<i32> {
        let tail = [i32::from(zero_point), scale.to_bits() as i32];
        y.iter().map(|&q| i32::from(q)).chain(tail).collect()
    };
    let [y, scale, zero_point] = run()?;
    let got = outputs(
        &y.read::<u8>(gpu)?,
        scale.read::<f32>(gpu)?[0],
        zero_point.read::<u8>(gpu)?[0],
    );
    let want = outputs(&reference.values, reference.scale, reference.zero_point);
    let comparison = compare_exact("DynamicQuantizeLinear f32->u8", &got, &want);
    // The range pass and the quantize pass each read x; the second writes one byte per element.
    let work = Throughput::bandwidth((x.len() * 9) as f64);
    measure(gpu, shape_label(&ACTIVATION), comparison, work, || {
        run().map(drop)
    })
}

/// The integer kernel rows.
pub(super) fn rows(gpu: &Gpu, rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    Ok(vec![
        qlinear_add_row(gpu, rng)?,
        lookup_table_row(gpu, rng)?,
        global_average_pool_row(gpu, rng)?,
        depthwise_row(gpu, rng)?,
        qlinear_matmul_row(gpu, rng)?,
        dynamic_quantize_row(gpu, rng)?,
    ])
}
