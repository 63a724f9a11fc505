//! Int4 weight-only matmul, tiled and GEMV, against `reference_matmul_q4`. The kernels dequantize
//! W exactly, so the tolerances are the f32-accumulation bounds of `kiln::ops::matmul::reference`
//! (plus the output's rounding to f16 for f16 activations), as for f32 operands.

use half::f16;
use kiln::check::{compare, SeededRng};
use kiln::device::Gpu;
use kiln::ops::matmul::f16::F16Path;
use kiln::ops::matmul::int4::{
    matmul_q4, matmul_q4_with, reference_matmul_q4, GpuQ4Weights, Q4Kernel,
};
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::Activation;
use kiln::tensor::{DType, GpuTensor, Q4GroupSize, Q4Weights};
use kiln::Error;

use crate::common::{check_weight_product_errors, gpu, random_values, shape, shape_sweep};

const GROUP_SIZES: [Q4GroupSize; 3] = [Q4GroupSize::G32, Q4GroupSize::G64, Q4GroupSize::G128];

/// One product: activations of `a_shape` (`[M, K]` or `[batch, M, K]`) times W `[n, K]`.
struct Problem<'a> {
    a_shape: &'a [usize],
    weights: &'a Q4Weights,
    activation: Activation,
    with_bias: bool,
    kernel: Q4Kernel,
    /// `None` for f32 activations, else the f16 path.
    f16_path: Option<F16Path>,
}

/// Random `[n, k]` weights in [-1, 1), quantized.
fn random_weights(
    rng: &mut SeededRng,
    n: usize,
    k: usize,
    group_size: Q4GroupSize,
    symmetric: bool,
) -> Q4Weights {
    let values = random_values(rng, n * k);
    Q4Weights::quantize(&values, n, k, group_size, symmetric).unwrap()
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
    check_with(
        label,
        problem,
        &a,
        &a_gpu,
        problem.with_bias.then_some(&bias),
    );
}

/// Runs `problem` on the uploaded activations `a_gpu` (whose values, widened to f32, are `a`) and
/// checks the result against the reference.
fn check_with(
    label: &str,
    problem: &Problem<'_>,
    a: &[f32],
    a_gpu: &GpuTensor,
    bias: Option<&Vec<f32>>,
) {
    let gpu = gpu().expect("checked by caller");
    let w = GpuQ4Weights::upload(gpu, problem.weights).unwrap();
    let bias_gpu = bias.map(|bias| GpuTensor::upload(gpu, &[bias.len()], bias).unwrap());
    let y = matmul_q4_with(
        gpu,
        a_gpu,
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
    let bias = bias.map(Vec::as_slice);
    let reference = reference_matmul_q4(
        a,
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
    let weights = problem.weights;
    let label = format!(
        "q4 {label} A {:?} W [{}, {}] {:?} {:?} {:?} f16 {:?} bias={}",
        problem.a_shape,
        weights.rows,
        weights.cols,
        weights.group_size,
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

/// A plain problem: identity activation, with bias, f32 activations.
fn plain<'a>(a_shape: &'a [usize], weights: &'a Q4Weights, kernel: Q4Kernel) -> Problem<'a> {
    Problem {
        a_shape,
        weights,
        activation: Activation::Identity,
        with_bias: true,
        kernel,
        f16_path: None,
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
fn every_group_size_symmetry_and_ragged_k_on_both_kernels() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(1);
    for group_size in GROUP_SIZES {
        for symmetric in [true, false] {
            for k in [1, 31, 32, 33, 100, 129] {
                let weights = random_weights(&mut rng, 11, k, group_size, symmetric);
                let seed = rng.next_u64();
                check("rows", &plain(&[5, k], &weights, Q4Kernel::Auto), seed);
                check("gemv", &plain(&[1, k], &weights, Q4Kernel::Gemv), seed);
                check("tiled m1", &plain(&[1, k], &weights, Q4Kernel::Tiled), seed);
            }
        }
    }
}

#[test]
fn shape_sweep_with_shared_weights() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(2);
    // W is one [N, K] matrix shared by every batch, so per-batch B cases and K = 0 (no int4
    // weights have an empty row) are left out; the B layout flags do not apply.
    let cases = shape_sweep()
        .into_iter()
        .filter(|case| case.k > 0 && !case.b_batched);
    for (index, case) in cases.enumerate() {
        let group_size = GROUP_SIZES[index % 3];
        let weights = random_weights(&mut rng, case.n, case.k, group_size, index % 2 == 0);
        let a_shape = if case.batch == 1 {
            vec![case.m, case.k]
        } else {
            vec![case.batch, case.m, case.k]
        };
        let mut problem = plain(&a_shape, &weights, Q4Kernel::Auto);
        problem.with_bias = index % 2 == 1;
        check("sweep", &problem, index as u64);
        if case.batch * case.m == 1 {
            problem.kernel = Q4Kernel::Tiled;
            check("sweep", &problem, index as u64);
        }
    }
}

#[test]
fn single_row_gemv_and_tiled_on_partial_workgroups() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(3);
    // The GEMV computes 8 channels per workgroup and stores them in pairs: N = 1, 7, 9, 17, 70
    // leave partial workgroups and an unpaired last channel; [1, 1, K] is batch·M = 1 in rank 3.
    for (index, n) in [1, 7, 9, 17, 70].into_iter().enumerate() {
        let k = [45, 260, 64, 513, 200][index];
        let weights = random_weights(&mut rng, n, k, GROUP_SIZES[index % 3], index % 2 == 1);
        for a_shape in [vec![1, k], vec![1, 1, k]] {
            for kernel in [Q4Kernel::Auto, Q4Kernel::Gemv, Q4Kernel::Tiled] {
                check(
                    "one row",
                    &plain(&a_shape, &weights, kernel),
                    30 + index as u64,
                );
            }
        }
    }
}

#[test]
fn batched_activations_share_the_weights() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(4);
    let weights = random_weights(&mut rng, 70, 150, Q4GroupSize::G64, false);
    check("batch", &plain(&[3, 5, 150], &weights, Q4Kernel::Auto), 40);
    check(
        "batch",
        &plain(&[4, 66, 150], &weights, Q4Kernel::Tiled),
        41,
    );
}

#[test]
fn every_activation_with_bias_on_both_kernels() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(5);
    let weights = random_weights(&mut rng, 21, 72, Q4GroupSize::G32, false);
    for (index, activation) in Activation::ALL.into_iter().enumerate() {
        for a_shape in [[1, 72], [6, 72]] {
            let problem = Problem {
                activation,
                ..plain(&a_shape, &weights, Q4Kernel::Auto)
            };
            check("activation", &problem, 50 + index as u64);
        }
    }
}

#[test]
fn f16_activations_on_both_paths_and_kernels() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(6);
    // Odd K puts rows of packed f16 activations mid-word; odd N shares output words between
    // threads (tiled) or leaves the GEMV's last pair half empty.
    let weights = random_weights(&mut rng, 37, 101, Q4GroupSize::G64, false);
    let even = random_weights(&mut rng, 16, 96, Q4GroupSize::G32, true);
    for path in f16_paths(gpu) {
        for (index, activation) in [Activation::Identity, Activation::Silu]
            .into_iter()
            .enumerate()
        {
            let seed = 60 + index as u64;
            for (a_shape, kernel) in [
                (vec![1, 101], Q4Kernel::Auto),
                (vec![1, 101], Q4Kernel::Tiled),
                (vec![2, 7, 101], Q4Kernel::Auto),
            ] {
                let problem = Problem {
                    activation,
                    with_bias: index == 0,
                    f16_path: Some(path),
                    ..plain(&a_shape, &weights, kernel)
                };
                check("f16", &problem, seed);
            }
            for a_shape in [vec![1, 96], vec![3, 96]] {
                let problem = Problem {
                    activation,
                    f16_path: Some(path),
                    ..plain(&a_shape, &even, Q4Kernel::Auto)
                };
                check("f16 even", &problem, seed);
            }
        }
    }
}

#[test]
fn f16_default_path_and_native_without_the_feature() {
    let Some(gpu) = gpu() else { return };
    let weights = Q4Weights::quantize(&[0.25; 2 * 8], 2, 8, Q4GroupSize::G32, true).unwrap();
    let w = GpuQ4Weights::upload(gpu, &weights).unwrap();
    let a = GpuTensor::upload(gpu, &[1, 8], &[f16::from_f32(2.0); 8]).unwrap();
    let y = matmul_q4(gpu, &a, &w, None, Activation::Identity).unwrap();
    assert_eq!(y.dtype(), DType::F16);
    assert_eq!(y.read::<f16>(gpu).unwrap(), vec![f16::from_f32(4.0); 2]);
    if !gpu.capabilities().shader_f16 {
        for kernel in [Q4Kernel::Gemv, Q4Kernel::Tiled] {
            let native = Some(F16Path::Native);
            let result = matmul_q4_with(gpu, &a, &w, None, Activation::Identity, kernel, native);
            assert!(matches!(result, Err(Error::MissingFeature { .. })));
        }
    }
}

#[test]
fn subnormal_scales_and_nan_activations_match_the_reference() {
    let Some(gpu) = gpu() else { return };
    // Subnormal f16 scales (accepted by from_parts) must not be flushed to zero.
    let (n, k) = (3, 40);
    let q: Vec<u8> = (0..n * k).map(|index| (index * 7 % 16) as u8).collect();
    let scales = [0x0001, 0x03FF, 0x0200, 0x3C00, 0x0010, 0x0400];
    let scales = scales.into_iter().map(f16::from_bits).collect();
    let zero_points = vec![8, 3, 0, 15, 8, 1];
    let weights = Q4Weights::from_parts(n, k, Q4GroupSize::G32, &q, scales, zero_points).unwrap();
    let mut rng = SeededRng::new(7);
    let mut a = rng.uniform_vec(2 * k, 1.0e3, 1.0e4);
    a[k + 5] = f32::NAN;
    for (a_shape, kernel) in [([1, k], Q4Kernel::Gemv), ([2, k], Q4Kernel::Tiled)] {
        let rows = &a[..a_shape[0] * k];
        let a_gpu = GpuTensor::upload(gpu, &a_shape, rows).unwrap();
        let problem = Problem {
            with_bias: false,
            ..plain(&a_shape, &weights, kernel)
        };
        check_with("subnormal scales, NaN", &problem, rows, &a_gpu, None);
    }
}

#[test]
fn bad_inputs_are_errors() {
    let Some(gpu) = gpu() else { return };
    let weights = Q4Weights::quantize(&[0.5; 4 * 10], 4, 10, Q4GroupSize::G32, false).unwrap();
    let w = GpuQ4Weights::upload(gpu, &weights).unwrap();
    assert_eq!(w.shape(), [4, 10]);
    assert_eq!(w.group_size(), Q4GroupSize::G32);
    let none = Activation::Identity;
    let run = |a: &GpuTensor, bias: Option<&GpuTensor>, kernel| {
        matmul_q4_with(gpu, a, &w, bias, none, kernel, None)
    };
    check_weight_product_errors(gpu, run);
    let mut broken = weights.clone();
    broken.packed.pop();
    assert!(shape(GpuQ4Weights::upload(gpu, &broken)));
    broken = weights.clone();
    broken.groups_per_row = 2;
    assert!(shape(GpuQ4Weights::upload(gpu, &broken)));
    let reference = |a: &[f32], a_shape: &[usize], bias: Option<&[f32]>| {
        reference_matmul_q4(a, a_shape, &weights, bias, none)
    };
    assert!(reference(&[1.0; 20], &[2, 10], None).is_ok());
    assert!(shape(reference(&[1.0; 19], &[2, 10], None)));
    assert!(shape(reference(&[1.0; 18], &[2, 9], None)));
    assert!(shape(reference(&[1.0; 20], &[2, 10], Some(&[1.0; 3]))));
}
