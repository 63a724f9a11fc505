//! The checks every BSR test runs: a product on the GPU against its reference, and the seeded
//! operands they use.

use half::f16;
use kiln::check::{compare, compare_exact, SeededRng};
use kiln::ops::matmul::int8::{reference_q8, Dot4Path, GpuQ8Activations};
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::sparse::bsr::{bsr_matmul_q8_i32_with, bsr_matmul_q8_with, bsr_matmul_with};
use kiln::ops::sparse::bsr::{BsrKernel, GpuBsrMatrix};
use kiln::ops::sparse::{reference_bsr_matmul, reference_bsr_matmul_i8};
use kiln::ops::Activation;
use kiln::tensor::bsr::{BlockShape, BsrMatrix, BsrValues};
use kiln::tensor::{GpuTensor, Q8Activations, Q8Weights};

use crate::common::{gpu, random_values};

/// Both dot-product paths.
const PATHS: [Dot4Path; 2] = [Dot4Path::Builtin, Dot4Path::Unpacked];

/// Random `[n, k]` weights in [-1, 1) with block-magnitude pruning to `sparsity`.
pub(super) fn pruned(
    seed: u64,
    (n, k): (usize, usize),
    block: BlockShape,
    sparsity: f32,
) -> BsrMatrix {
    let dense = random_values(&mut SeededRng::new(seed), n * k);
    BsrMatrix::prune_by_magnitude(&dense, n, k, block, sparsity).unwrap()
}

/// One float product: `w` (f32 or f16 values; the activations get the same dtype) times seeded
/// activations of `x_shape`, with an optional seeded bias.
pub(super) struct FloatCase<'a> {
    pub label: &'a str,
    pub w: &'a BsrMatrix,
    pub x_shape: &'a [usize],
    pub with_bias: bool,
    pub activation: Activation,
}

pub(super) fn check_float(case: &FloatCase<'_>, kernel: BsrKernel, seed: u64) {
    let gpu = gpu().expect("checked by caller");
    let mut rng = SeededRng::new(seed);
    let mut x = random_values(&mut rng, case.x_shape.iter().product());
    let bias = rng.uniform_vec(case.w.rows, -2.0, 2.0);
    let is_f16 = matches!(case.w.values, BsrValues::F16(_));
    let x_gpu = if is_f16 {
        let halves: Vec<f16> = x.iter().map(|&value| f16::from_f32(value)).collect();
        x = halves.iter().map(|half| half.to_f32()).collect();
        GpuTensor::upload(gpu, case.x_shape, &halves).unwrap()
    } else {
        GpuTensor::upload(gpu, case.x_shape, &x).unwrap()
    };
    let bias_gpu = GpuTensor::upload(gpu, &[bias.len()], &bias).unwrap();
    let w_gpu = GpuBsrMatrix::upload(gpu, case.w).unwrap();
    let bias_gpu = case.with_bias.then_some(&bias_gpu);
    let y = bsr_matmul_with(gpu, &x_gpu, &w_gpu, bias_gpu, case.activation, kernel).unwrap();
    let rows = x.len() / case.w.cols;
    let bias = case.with_bias.then_some(&bias[..]);
    let reference = reference_bsr_matmul(&x, rows, case.w, bias, case.activation);
    let mut expected_shape = case.x_shape.to_vec();
    *expected_shape.last_mut().unwrap() = case.w.rows;
    assert_eq!(y.shape(), expected_shape, "{}", case.label);
    let (got, precision) = if is_f16 {
        let halves = y.read::<f16>(gpu).unwrap();
        (
            halves.iter().map(|half| half.to_f32()).collect(),
            OutputPrecision::F16,
        )
    } else {
        (y.read::<f32>(gpu).unwrap(), OutputPrecision::F32)
    };
    let label = format!(
        "bsr {} {} W [{}, {}] {} sparsity {:.2} x {:?} {kernel:?} {:?} bias={}",
        case.label,
        case.w.values.dtype(),
        case.w.rows,
        case.w.cols,
        case.w.block,
        case.w.sparsity(),
        case.x_shape,
        case.activation,
        case.with_bias
    );
    let tolerances = reference.tolerances(precision);
    compare(&label, &got, &reference.values(), &tolerances).assert_passed();
}

/// The int8 BSR matrix as dense [`Q8Weights`] (zero points 0), for `reference_q8`.
fn dense_q8(w: &BsrMatrix) -> Q8Weights {
    let BsrValues::I8 { values, scales } = &w.values else {
        panic!("int8 weights expected");
    };
    let mut dense = vec![0i8; w.rows * w.cols];
    for element in w.stored_elements() {
        dense[element.row * w.cols + element.col] = values[element.index];
    }
    Q8Weights::from_parts(w.rows, w.cols, &dense, scales.clone(), vec![0; w.rows]).unwrap()
}

/// `(batch, M)` of an activation shape `[M, K]` or `[batch, M, K]`.
pub(super) fn batch_and_rows(x_shape: &[usize]) -> (usize, usize) {
    match *x_shape {
        [m, _] => (1, m),
        [batch, m, _] => (batch, m),
        _ => panic!("activations are rank 2 or 3"),
    }
}

/// Random int8 activations, `rows × k`, with a random scale and the given zero point.
pub(super) fn random_q8(
    rng: &mut SeededRng,
    rows: usize,
    k: usize,
    zero_point: i8,
) -> Q8Activations {
    let values: Vec<i8> = (0..rows * k).map(|_| rng.int_in(-128, 127) as i8).collect();
    Q8Activations::from_parts(rows, k, &values, rng.uniform(0.005, 0.02), zero_point).unwrap()
}

/// Checks the i32 accumulators (exactly) and the f32 output on both dot-product paths.
pub(super) fn check_q8(
    label: &str,
    (w, x): (&BsrMatrix, &Q8Activations),
    (batch, m): (usize, usize),
    (bias, activation): (Option<&[f32]>, Activation),
    kernel: BsrKernel,
) {
    let gpu = gpu().expect("checked by caller");
    let w_gpu = GpuBsrMatrix::upload(gpu, w).unwrap();
    let x_gpu = GpuQ8Activations::upload(gpu, x, batch, m).unwrap();
    let bias_gpu = bias.map(|bias| GpuTensor::upload(gpu, &[bias.len()], bias).unwrap());
    let want_i32 = reference_bsr_matmul_i8(x, w).unwrap();
    let (want, tolerances) = reference_q8(x, &dense_q8(w), batch, m, bias, activation);
    let label = format!(
        "bsr int8 {label} W [{}, {}] {} sparsity {:.2} x [{batch}, {m}] zp {} {kernel:?}",
        w.rows,
        w.cols,
        w.block,
        w.sparsity(),
        x.zero_point
    );
    for path in PATHS {
        let y = bsr_matmul_q8_i32_with(gpu, &x_gpu, &w_gpu, path, kernel).unwrap();
        let got = y.read::<i32>(gpu).unwrap();
        compare_exact(&format!("{label} {path:?} i32"), &got, &want_i32).assert_passed();
        let y = bsr_matmul_q8_with(
            gpu,
            &x_gpu,
            &w_gpu,
            bias_gpu.as_ref(),
            activation,
            path,
            kernel,
        )
        .unwrap();
        let got = y.read::<f32>(gpu).unwrap();
        let label = format!(
            "{label} {path:?} f32 {activation:?} bias={}",
            bias.is_some()
        );
        compare(&label, &got, &want, &tolerances).assert_passed();
    }
}
