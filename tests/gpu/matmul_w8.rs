//! Weight-only int8 matmul (W8A32), tiled and GEMV, against `reference_matmul_w8`. The kernels
//! dequantize W exactly as `Q8Weights::dequantize` does (one f32 product of an exact integer and
//! the scale), so the tolerances are the f32-accumulation bounds of `kiln::ops::matmul::reference`
//! for K terms (plus the output's rounding to f16 for f16 activations), as for f32 operands.

use half::f16;
use kiln::check::{compare, SeededRng};
use kiln::device::Gpu;
use kiln::ops::matmul::f16::F16Path;
use kiln::ops::matmul::int8::GpuQ8Weights;
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::matmul::w8a32::{matmul_w8, matmul_w8_with, reference_matmul_w8, W8Kernel};
use kiln::ops::Activation;
use kiln::tensor::{GpuTensor, Q8Scheme, Q8Weights};

use crate::common::{check_weight_product_errors, gpu, random_values};

/// How the test weights are quantized: the storage type and its zero points.
#[derive(Clone, Copy, Debug)]
enum Storage {
    /// Int8 values in [−128, 127] with the given zero point.
    Int8 { zero_point: i8 },
    /// Uint8 values in [0, 255] with the given zero point, stored as kiln stores them (both
    /// shifted by −128).
    Uint8 { zero_point: u8 },
}

/// Seeded `[n, k]` weights of `storage`: every row holds the extreme levels (−128 and 127, or 0
/// and 255) at its first two positions and random levels elsewhere; `per_channel` gives each row
/// its own scale (and, for a zero point of 0, its own zero point), else one for all rows.
fn edge_weights(
    rng: &mut SeededRng,
    n: usize,
    k: usize,
    storage: Storage,
    per_channel: bool,
) -> Q8Weights {
    let mut levels = rng.int_vec(n * k, -128, 127);
    for row in levels.chunks_mut(k) {
        row[0] = -128;
        if k > 1 {
            row[1] = 127;
        }
    }
    let base_zero_point = match storage {
        Storage::Int8 { zero_point } => i32::from(zero_point),
        Storage::Uint8 { zero_point } => i32::from(zero_point) - 128,
    };
    let shared_scale = rng.uniform(0.001, 0.02);
    let (scales, zero_points) = (0..n)
        .map(|row| {
            if !per_channel {
                return (shared_scale, base_zero_point as i8);
            }
            let zero_point = if base_zero_point == 0 {
                rng.int_in(-20, 20)
            } else {
                base_zero_point
            };
            (shared_scale * (1.0 + row as f32 * 0.37), zero_point as i8)
        })
        .unzip();
    let values: Vec<i8> = levels.iter().map(|&level| level as i8).collect();
    Q8Weights::from_parts(n, k, &values, scales, zero_points).unwrap()
}

/// One product: activations of `a_shape` (`[M, K]` or `[batch, M, K]`) times W `[n, K]`.
struct Problem<'a> {
    a_shape: &'a [usize],
    weights: &'a Q8Weights,
    activation: Activation,
    with_bias: bool,
    kernel: W8Kernel,
    /// `None` for f32 activations, else the f16 path.
    f16_path: Option<F16Path>,
}

/// Runs `problem` on the GPU with seeded activations and bias and checks it against the reference.
fn check(label: &str, problem: &Problem<'_>, seed: u64) {
    let gpu = gpu().expect("checked by caller");
    let mut rng = SeededRng::new(seed);
    let n = problem.weights.rows;
    let mut a = random_values(&mut rng, problem.a_shape.iter().product());
    let bias = rng.uniform_vec(n, -2.0, 2.0);
    let a_gpu = match problem.f16_path {
        None => GpuTensor::upload(gpu, problem.a_shape, &a).unwrap(),
        Some(_) => {
            let halves: Vec<f16> = a.iter().map(|&value| f16::from_f32(value)).collect();
            a = halves.iter().map(|value| value.to_f32()).collect();
            GpuTensor::upload(gpu, problem.a_shape, &halves).unwrap()
        }
    };
    let w = GpuQ8Weights::upload(gpu, problem.weights).unwrap();
    let bias_gpu = problem
        .with_bias
        .then(|| GpuTensor::upload(gpu, &[n], &bias).unwrap());
    let y = matmul_w8_with(
        gpu,
        &a_gpu,
        &w,
        bias_gpu.as_ref(),
        problem.activation,
        problem.kernel,
        problem.f16_path,
    )
    .unwrap();
    let (got, output_precision) = match problem.f16_path {
        None => (y.read::<f32>(gpu).unwrap(), OutputPrecision::F32),
        Some(_) => {
            let halves = y.read::<f16>(gpu).unwrap();
            (
                halves.iter().map(|value| value.to_f32()).collect(),
                OutputPrecision::F16,
            )
        }
    };
    let bias = problem.with_bias.then_some(bias.as_slice());
    let reference = reference_matmul_w8(
        &a,
        problem.a_shape,
        problem.weights,
        bias,
        problem.activation,
    )
    .unwrap();
    assert_eq!(
        y.shape(),
        reference.dims.output_shape(problem.a_shape.len())
    );
    let label = format!(
        "w8 {label} A {:?} W [{}, {}] {:?} {:?} f16 {:?} bias={}",
        problem.a_shape,
        problem.weights.rows,
        problem.weights.cols,
        problem.kernel,
        problem.activation,
        problem.f16_path,
        problem.with_bias
    );
    compare(
        &label,
        &got,
        &reference.values(),
        &reference.tolerances(output_precision),
    )
    .assert_passed();
}

/// The storages of the sweep: int8 with zero points 0 and extremes, uint8 with 0, 128 and 255.
const STORAGES: [Storage; 6] = [
    Storage::Int8 { zero_point: 0 },
    Storage::Int8 { zero_point: -128 },
    Storage::Int8 { zero_point: 127 },
    Storage::Uint8 { zero_point: 0 },
    Storage::Uint8 { zero_point: 128 },
    Storage::Uint8 { zero_point: 255 },
];

#[test]
fn odd_shapes_every_storage_and_zero_point_per_tensor_and_per_channel() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(11);
    let activations = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu { alpha: 0.1 },
        Activation::Sigmoid,
    ];
    let shapes: [(&[usize], usize); 5] = [
        (&[1, 5], 3),
        (&[7, 33], 13),
        (&[65, 130], 17),
        (&[2, 5, 70], 9),
        (&[1, 1, 64], 70),
    ];
    let mut index = 0;
    for storage in STORAGES {
        for per_channel in [false, true] {
            for &(a_shape, n) in &shapes {
                let k = a_shape[a_shape.len() - 1];
                let weights = edge_weights(&mut rng, n, k, storage, per_channel);
                let problem = Problem {
                    a_shape,
                    weights: &weights,
                    activation: activations[index % activations.len()],
                    with_bias: index % 3 != 2,
                    kernel: W8Kernel::Auto,
                    f16_path: None,
                };
                let label = format!("{storage:?} per_channel={per_channel}");
                check(&label, &problem, index as u64);
                if a_shape.iter().product::<usize>() == k {
                    check(
                        &label,
                        &Problem {
                            kernel: W8Kernel::Tiled,
                            ..problem
                        },
                        index as u64,
                    );
                }
                index += 1;
            }
        }
    }
}

#[test]
fn f16_activations_on_every_path_and_kernel() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(12);
    for path in f16_paths(gpu) {
        for (a_shape, kernel) in [
            (&[1, 37][..], W8Kernel::Gemv),
            (&[9, 37][..], W8Kernel::Tiled),
        ] {
            let weights = edge_weights(&mut rng, 11, 37, Storage::Uint8 { zero_point: 128 }, true);
            let problem = Problem {
                a_shape,
                weights: &weights,
                activation: Activation::Relu,
                with_bias: true,
                kernel,
                f16_path: Some(path),
            };
            check("f16", &problem, rng.next_u64());
        }
    }
}

/// The f16 paths this device can run (native only with SHADER_F16).
fn f16_paths(gpu: &Gpu) -> Vec<F16Path> {
    if gpu.capabilities().shader_f16 {
        vec![F16Path::Native, F16Path::Packed]
    } else {
        vec![F16Path::Packed]
    }
}

#[test]
fn exact_weights_give_exact_products() {
    // Symmetric rows of 127.0 quantize to scale 1 and level 127, and 0.5·127·40 is exact.
    let Some(gpu) = gpu() else { return };
    let weights = Q8Weights::quantize(&[127.0f32; 3 * 40], 3, 40, Q8Scheme::Symmetric).unwrap();
    let w = GpuQ8Weights::upload(gpu, &weights).unwrap();
    for rows in [1, 5] {
        let a = GpuTensor::upload(gpu, &[rows, 40], &vec![0.5f32; rows * 40]).unwrap();
        let y = matmul_w8(gpu, &a, &w, None, Activation::Identity).unwrap();
        assert_eq!(y.read::<f32>(gpu).unwrap(), vec![2540.0; rows * 3]);
    }
}

#[test]
fn bad_operands_are_errors() {
    let Some(gpu) = gpu() else { return };
    let weights = Q8Weights::quantize(&[0.5f32; 40], 4, 10, Q8Scheme::Asymmetric).unwrap();
    let w = GpuQ8Weights::upload(gpu, &weights).unwrap();
    check_weight_product_errors(gpu, |x, bias, kernel| {
        matmul_w8_with(gpu, x, &w, bias, Activation::Identity, kernel, None)
    });
}
