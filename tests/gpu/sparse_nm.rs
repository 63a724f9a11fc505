//! N:M-sparse matmul, tiled and GEMV, against `reference_nm_matmul`. The kernels widen the kept
//! values exactly and accumulate in f32, so the tolerances are the f32-accumulation bounds of
//! `kiln::ops::matmul::reference` (plus the output's rounding to f16 for f16 operands).

use half::f16;
use kiln::check::{compare, SeededRng};
use kiln::device::Gpu;
use kiln::ops::matmul::f16::F16Path;
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::sparse::nm::{nm_matmul, nm_matmul_with, GpuNmMatrix, NmKernel};
use kiln::ops::sparse::reference_nm_matmul;
use kiln::ops::Activation;
use kiln::tensor::nm_sparse::{NmPattern, NmSparseMatrix};
use kiln::tensor::{DType, GpuTensor};
use kiln::Error;

use crate::common::{check_weight_product_errors, dtype, gpu, random_values, shape};

/// One product: activations of `x_shape` (`[M, K]` or `[batch, M, K]`) times W `[N, K]`.
struct Problem<'a> {
    x_shape: &'a [usize],
    weights: &'a NmSparseMatrix,
    activation: Activation,
    with_bias: bool,
    kernel: NmKernel,
    /// `None` for f32 operands, else the f16 path (the weights must then hold f16 values).
    f16_path: Option<F16Path>,
}

/// A plain problem: identity activation, with bias, f32 operands.
fn plain<'a>(x_shape: &'a [usize], weights: &'a NmSparseMatrix, kernel: NmKernel) -> Problem<'a> {
    Problem {
        x_shape,
        weights,
        activation: Activation::Identity,
        with_bias: true,
        kernel,
        f16_path: None,
    }
}

/// Random `[n, k]` weights in [-1, 1), pruned to `pattern` by magnitude.
fn random_weights(rng: &mut SeededRng, n: usize, k: usize, pattern: NmPattern) -> NmSparseMatrix {
    let dense = random_values(rng, n * k);
    NmSparseMatrix::prune_by_magnitude(&dense, n, k, pattern).unwrap()
}

/// Runs `problem` on the GPU with seeded activations and bias and checks it against the reference.
fn check(label: &str, problem: &Problem<'_>, seed: u64) {
    let gpu = gpu().expect("checked by caller");
    let mut rng = SeededRng::new(seed);
    let weights = problem.weights;
    let mut x = random_values(&mut rng, problem.x_shape.iter().product());
    let bias = rng.uniform_vec(weights.rows, -2.0, 2.0);
    let bias = problem.with_bias.then_some(bias.as_slice());
    let x_gpu = match problem.f16_path {
        None => GpuTensor::upload(gpu, problem.x_shape, &x).unwrap(),
        Some(_) => {
            let halves: Vec<f16> = x.iter().map(|&value| f16::from_f32(value)).collect();
            x = halves.iter().map(|value| value.to_f32()).collect();
            GpuTensor::upload(gpu, problem.x_shape, &halves).unwrap()
        }
    };
    let w = GpuNmMatrix::upload(gpu, weights).unwrap();
    let bias_gpu = bias.map(|bias| GpuTensor::upload(gpu, &[bias.len()], bias).unwrap());
    let y = nm_matmul_with(
        gpu,
        &x_gpu,
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
            let got = halves.iter().map(|value| value.to_f32()).collect();
            (got, OutputPrecision::F16)
        }
    };
    let batch_rows = x.len() / weights.cols;
    let reference = reference_nm_matmul(&x, batch_rows, weights, bias, problem.activation);
    let mut expected_shape = problem.x_shape.to_vec();
    *expected_shape.last_mut().unwrap() = weights.rows;
    assert_eq!(y.shape(), expected_shape);
    let label = format!(
        "nm {label} {} X {:?} W [{}, {}] {:?} {:?} f16 {:?} bias={}",
        weights.pattern,
        problem.x_shape,
        weights.rows,
        weights.cols,
        problem.kernel,
        problem.activation,
        problem.f16_path,
        bias.is_some()
    );
    compare(
        &label,
        &got,
        &reference.values(),
        &reference.tolerances(output_precision),
    )
    .assert_passed();
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
fn every_pattern_and_ragged_k_on_both_kernels() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(1);
    // K = 3 is less than one group; 10, 37 and 517 leave padding positions in the last group and
    // are not multiples of the 16-deep tile; 64 is whole tiles; 517 gives the GEMV full four-slot
    // steps and a tail. N = 11 leaves a partial GEMV workgroup and an unpaired last output.
    for pattern in NmPattern::ALL {
        for k in [3, 10, 37, 64, 517] {
            let weights = random_weights(&mut rng, 11, k, pattern);
            let seed = rng.next_u64();
            check("rows", &plain(&[5, k], &weights, NmKernel::Auto), seed);
            check("gemv", &plain(&[1, k], &weights, NmKernel::Gemv), seed);
            check("tiled m1", &plain(&[1, k], &weights, NmKernel::Tiled), seed);
        }
    }
}

#[test]
fn single_row_gemv_and_tiled_on_partial_workgroups() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(2);
    // The GEMV computes 8 channels per workgroup and stores them in pairs: N = 1, 7, 9, 17, 70
    // leave partial workgroups and an unpaired last channel; [1, 1, K] is batch·M = 1 in rank 3.
    for (index, n) in [1, 7, 9, 17, 70].into_iter().enumerate() {
        let k = [45, 260, 64, 300, 200][index];
        let weights = random_weights(&mut rng, n, k, NmPattern::ALL[index % 4]);
        for x_shape in [vec![1, k], vec![1, 1, k]] {
            for kernel in [NmKernel::Auto, NmKernel::Gemv, NmKernel::Tiled] {
                let problem = plain(&x_shape, &weights, kernel);
                check("one row", &problem, 20 + index as u64);
            }
        }
    }
}

#[test]
fn batched_activations_share_the_weights() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(3);
    // Several tiles in M and N; K = 150 is a multiple of neither 4 (scalar A loads) nor 16.
    let weights = random_weights(&mut rng, 70, 150, NmPattern::TWO_FOUR);
    check("batch", &plain(&[3, 5, 150], &weights, NmKernel::Auto), 30);
    check(
        "batch",
        &plain(&[2, 66, 150], &weights, NmKernel::Tiled),
        31,
    );
    let weights = random_weights(&mut rng, 67, 96, NmPattern::FOUR_EIGHT);
    check("batch", &plain(&[2, 65, 96], &weights, NmKernel::Auto), 32);
}

#[test]
fn every_activation_with_bias_on_both_kernels() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(4);
    let weights = random_weights(&mut rng, 21, 72, NmPattern::TWO_FOUR);
    for (index, activation) in Activation::ALL.into_iter().enumerate() {
        for x_shape in [[1, 72], [6, 72]] {
            let problem = Problem {
                activation,
                ..plain(&x_shape, &weights, NmKernel::Auto)
            };
            check("activation", &problem, 40 + index as u64);
        }
    }
}

#[test]
fn f16_on_both_paths_and_kernels() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(5);
    // Odd K puts rows of packed f16 activations mid-word and leaves padding positions; odd N
    // shares output words between threads (tiled) or leaves the GEMV's last pair half empty.
    for pattern in NmPattern::ALL {
        let weights = random_weights(&mut rng, 37, 101, pattern).to_f16();
        let even = random_weights(&mut rng, 16, 96, pattern).to_f16();
        for path in f16_paths(gpu) {
            let seed = rng.next_u64();
            for (x_shape, kernel, activation) in [
                (vec![1, 101], NmKernel::Auto, Activation::Identity),
                (vec![1, 101], NmKernel::Tiled, Activation::Silu),
                (vec![2, 7, 101], NmKernel::Auto, Activation::Identity),
            ] {
                let problem = Problem {
                    activation,
                    f16_path: Some(path),
                    ..plain(&x_shape, &weights, kernel)
                };
                check("f16", &problem, seed);
            }
            for x_shape in [vec![1, 96], vec![3, 96]] {
                let problem = Problem {
                    with_bias: false,
                    f16_path: Some(path),
                    ..plain(&x_shape, &even, NmKernel::Auto)
                };
                check("f16 even", &problem, seed);
            }
        }
    }
}

#[test]
fn odd_kept_values_per_row_in_f16() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(6);
    // 1:4 with K = 9: three groups, three values per row, so every other row starts mid-word.
    let weights = random_weights(&mut rng, 5, 9, NmPattern::ONE_FOUR).to_f16();
    for path in f16_paths(gpu) {
        for (x_shape, kernel) in [(vec![1, 9], NmKernel::Gemv), (vec![4, 9], NmKernel::Tiled)] {
            let problem = Problem {
                f16_path: Some(path),
                ..plain(&x_shape, &weights, kernel)
            };
            check("odd slots", &problem, 60);
        }
    }
}

#[test]
fn f16_default_path_and_native_without_the_feature() {
    let Some(gpu) = gpu() else { return };
    let dense: Vec<f32> = (0..2 * 8).map(|i| [0.25, 0.0, 0.0, 0.5][i % 4]).collect();
    let weights = NmSparseMatrix::from_dense(&dense, 2, 8, NmPattern::TWO_FOUR).unwrap();
    let w = GpuNmMatrix::upload(gpu, &weights.to_f16()).unwrap();
    assert_eq!(w.dtype(), DType::F16);
    let x = GpuTensor::upload(gpu, &[1, 8], &[f16::from_f32(2.0); 8]).unwrap();
    let y = nm_matmul(gpu, &x, &w, None, Activation::Identity).unwrap();
    assert_eq!(y.dtype(), DType::F16);
    assert_eq!(y.read::<f16>(gpu).unwrap(), vec![f16::from_f32(3.0); 2]);
    if !gpu.capabilities().shader_f16 {
        for kernel in [NmKernel::Gemv, NmKernel::Tiled] {
            let native = Some(F16Path::Native);
            let result = nm_matmul_with(gpu, &x, &w, None, Activation::Identity, kernel, native);
            assert!(matches!(result, Err(Error::MissingFeature { .. })));
        }
    }
}

#[test]
fn all_zero_weights_give_the_bias_alone() {
    let Some(gpu) = gpu() else { return };
    let (n, k) = (9, 40);
    let weights =
        NmSparseMatrix::from_dense(&vec![0.0; n * k], n, k, NmPattern::TWO_EIGHT).unwrap();
    let w = GpuNmMatrix::upload(gpu, &weights).unwrap();
    let bias: Vec<f32> = (0..n).map(|i| i as f32 - 4.5).collect();
    let bias_gpu = GpuTensor::upload(gpu, &[n], &bias).unwrap();
    let relu: Vec<f32> = bias.iter().map(|&value| value.max(0.0)).collect();
    for rows in [1, 3] {
        let x = GpuTensor::upload(gpu, &[rows, k], &vec![1.5f32; rows * k]).unwrap();
        for kernel in [NmKernel::Auto, NmKernel::Tiled] {
            let y = nm_matmul_with(gpu, &x, &w, Some(&bias_gpu), Activation::Relu, kernel, None);
            assert_eq!(y.unwrap().read::<f32>(gpu).unwrap(), relu.repeat(rows));
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    let Some(gpu) = gpu() else { return };
    let dense: Vec<f32> = (0..4 * 10).map(|i| [0.5, 0.0, -1.0, 0.0][i % 4]).collect();
    let weights = NmSparseMatrix::from_dense(&dense, 4, 10, NmPattern::TWO_FOUR).unwrap();
    let w = GpuNmMatrix::upload(gpu, &weights).unwrap();
    assert_eq!(w.shape(), [4, 10]);
    assert_eq!(w.pattern(), NmPattern::TWO_FOUR);
    let none = Activation::Identity;
    let run = |x: &GpuTensor, bias: Option<&GpuTensor>, kernel| {
        nm_matmul_with(gpu, x, &w, bias, none, kernel, None)
    };
    check_weight_product_errors(gpu, run);
    let x = GpuTensor::upload(gpu, &[2, 10], &[1.0f32; 20]).unwrap();
    // Activations must have the values' dtype, both ways round.
    let x_f16 = GpuTensor::upload(gpu, &[1, 10], &[f16::ONE; 10]).unwrap();
    assert!(dtype(run(&x_f16, None, NmKernel::Auto)));
    let w_f16 = GpuNmMatrix::upload(gpu, &weights.to_f16()).unwrap();
    let mixed = nm_matmul(gpu, &x, &w_f16, None, none);
    assert!(dtype(mixed));
    // Hostile parts are rejected at upload.
    let mut broken = weights.clone();
    broken.indices.pop();
    assert!(shape(GpuNmMatrix::upload(gpu, &broken)));
    broken = weights.clone();
    broken.indices[0] = 0b0001; // positions (1, 0): not ascending
    let descending = GpuNmMatrix::upload(gpu, &broken);
    assert!(matches!(descending, Err(Error::InvalidArgument { .. })));
}
