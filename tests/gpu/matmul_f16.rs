//! f16 matmul (f16 operands, f32 accumulation, f16 output) against the f64 reference on both paths,
//! native `f16` and packed `u32`, with the tolerances derived in `kiln::ops::matmul::reference`
//! (f32 accumulation plus the output's rounding to f16).

use half::f16;
use kiln::check::{compare, SeededRng};
use kiln::device::Gpu;
use kiln::ops::matmul::f16::{matmul_f16, matmul_f16_with_path, reference_matmul_f16, F16Path};
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::matmul::MatmulOptions;
use kiln::ops::Activation;
use kiln::tensor::{DType, GpuTensor};
use kiln::Error;

use crate::common::{gpu, random_values, shape_sweep, Case};

/// The paths this device can run: packed always, native where the device has SHADER_F16 (without
/// it, `native_path_needs_shader_f16` checks the error instead).
fn paths(gpu: &Gpu) -> Vec<F16Path> {
    if gpu.capabilities().shader_f16 {
        vec![F16Path::Native, F16Path::Packed]
    } else {
        vec![F16Path::Packed]
    }
}

fn to_f16(values: &[f32]) -> Vec<f16> {
    values.iter().map(|&value| f16::from_f32(value)).collect()
}

/// Runs the kernel on `path`, checks it against the reference and returns the output as f32.
fn run_and_compare(
    label: &str,
    case: &Case,
    operands: (&[f16], &[f16]),
    bias: Option<&[f32]>,
    activation: Activation,
    path: F16Path,
) -> Vec<f32> {
    let gpu = gpu().expect("checked by caller");
    let (a, b) = operands;
    let options = MatmulOptions {
        b_transposed: case.b_transposed,
        activation,
    };
    let a_gpu = GpuTensor::upload(gpu, &case.a_shape(), a).unwrap();
    let b_gpu = GpuTensor::upload(gpu, &case.b_shape(), b).unwrap();
    let bias_gpu = bias.map(|bias| GpuTensor::upload(gpu, &[case.n], bias).unwrap());
    let c = matmul_f16_with_path(gpu, &a_gpu, &b_gpu, bias_gpu.as_ref(), &options, path).unwrap();
    assert_eq!(c.shape(), case.dims().output_shape(case.a_shape().len()));
    let got: Vec<f32> = c
        .read::<f16>(gpu)
        .unwrap()
        .iter()
        .map(|v| v.to_f32())
        .collect();
    let reference = reference_matmul_f16(a, b, &case.dims(), bias, activation);
    compare(
        &format!(
            "f16 {path:?} {label} {case:?} {activation:?} bias={}",
            bias.is_some()
        ),
        &got,
        &reference.values(),
        &reference.tolerances(OutputPrecision::F16),
    )
    .assert_passed();
    got
}

/// Random operands in [-1, 1) rounded to f16, and a bias in [-2, 2).
fn check_random(case: &Case, activation: Activation, with_bias: bool, path: F16Path, seed: u64) {
    let mut rng = SeededRng::new(seed);
    let a = to_f16(&random_values(&mut rng, case.batch * case.m * case.k));
    let b = to_f16(&random_values(&mut rng, case.b_len()));
    let bias = rng.uniform_vec(case.n, -2.0, 2.0);
    let bias = with_bias.then_some(&bias[..]);
    run_and_compare("random", case, (&a, &b), bias, activation, path);
}

#[test]
fn matches_reference_over_the_shape_sweep_on_both_paths() {
    let Some(gpu) = gpu() else { return };
    for (index, case) in shape_sweep().iter().enumerate() {
        for path in paths(gpu) {
            let with_bias = (index + usize::from(path == F16Path::Packed)) % 2 == 0;
            check_random(case, Activation::Identity, with_bias, path, index as u64);
        }
    }
}

#[test]
fn fused_bias_and_every_activation() {
    let Some(gpu) = gpu() else { return };
    let case = Case::new(2, 33, 36, 20);
    for (index, activation) in Activation::ALL.into_iter().enumerate() {
        for path in paths(gpu) {
            check_random(&case, activation, true, path, 100 + index as u64);
        }
    }
}

/// With odd N (and odd batch strides) the two halves of one packed output word belong to different
/// threads, rows or workgroups (N = 65: columns 63 and 64 lie in different column tiles).
#[test]
fn odd_n_halves_of_a_word_from_different_threads_are_both_kept() {
    let Some(gpu) = gpu() else { return };
    let mut cases: Vec<Case> = [1, 3, 33, 65]
        .into_iter()
        .map(|n| Case::new(1, 67, n, 20))
        .collect();
    cases.push(Case::new(3, 5, 7, 9));
    cases.push(Case {
        b_transposed: true,
        b_batched: true,
        ..Case::new(3, 67, 65, 21)
    });
    for (index, case) in cases.iter().enumerate() {
        for path in paths(gpu) {
            check_random(
                case,
                Activation::Identity,
                index % 2 == 0,
                path,
                200 + index as u64,
            );
        }
    }
}

/// Inputs from f16's smallest normal (2⁻¹⁴) to its largest finite value (65504), with outputs close
/// to that largest value: every output must be finite and within tolerance.
#[test]
fn values_near_the_f16_limits_stay_finite() {
    let Some(gpu) = gpu() else { return };
    let case = Case::new(1, 6, 5, 8);
    let mut rng = SeededRng::new(300);
    // Row 0 of B is in [-1, 1), rows 1.. in [-30, 30), the bias in [-2, 2): rows of A bounded by
    // 240 give |C| ≤ 240 + 7·240·30 + 2 = 50642 (row 0 is all 240 against a column of 30s, so
    // C[0, 0] > 50000); row 1 of A is f16::MAX at k = 0 and zero elsewhere, so |C[1, n]| ≤ 65506,
    // which still rounds to the finite 65504 (overflow starts at 65520); row 2 is f16's smallest
    // normal.
    let mut b: Vec<f32> = rng.uniform_vec(case.k * case.n, -30.0, 30.0);
    b[..case.n].copy_from_slice(&rng.uniform_vec(case.n, -1.0, 1.0));
    let mut a: Vec<f32> = rng.uniform_vec(case.m * case.k, -240.0, 240.0);
    a[..case.k].fill(240.0);
    a[case.k..2 * case.k].fill(0.0);
    a[case.k] = f16::MAX.to_f32();
    a[2 * case.k..3 * case.k].fill(f16::MIN_POSITIVE.to_f32());
    for row in 1..case.k {
        b[row * case.n] = 30.0;
    }
    let (a, b) = (to_f16(&a), to_f16(&b));
    let bias = rng.uniform_vec(case.n, -2.0, 2.0);
    for path in paths(gpu) {
        let got = run_and_compare(
            "near f16 limits",
            &case,
            (&a, &b),
            Some(&bias),
            Activation::Identity,
            path,
        );
        assert!(got.iter().all(|v| v.is_finite()), "{path:?}: {got:?}");
        assert!(got[0] > 50_000.0, "{path:?}: C[0, 0] = {}", got[0]);
    }
}

/// A NaN in A poisons its row of C and one in B its column, and nothing else. With K = 9 the packed
/// loaders read words shared by two rows, whose other half they must mask: each NaN is at k = 0 of
/// a row starting at an odd element (A[1, 0] is element 9, B[3, 0] element 27), so it shares a word
/// with the previous row's last element.
#[test]
fn nan_propagates_to_its_row_or_column_only() {
    let Some(gpu) = gpu() else { return };
    let plain = Case::new(1, 5, 7, 9);
    let transposed = Case {
        b_transposed: true,
        ..plain
    };
    let mut rng = SeededRng::new(400);
    let clean_a = to_f16(&random_values(&mut rng, plain.m * plain.k));
    let clean_b = to_f16(&random_values(&mut rng, plain.b_len()));
    let mut nan_a = clean_a.clone();
    nan_a[plain.k] = f16::NAN;
    let mut nan_b_transposed = clean_b.clone();
    nan_b_transposed[3 * plain.k] = f16::NAN;
    // (label, case, A, B, the poisoned row of C, the poisoned column of C)
    let runs = [
        ("NaN in A", &plain, &nan_a, &clean_b, Some(1), None),
        (
            "NaN in B",
            &transposed,
            &clean_a,
            &nan_b_transposed,
            None,
            Some(3),
        ),
    ];
    for (label, case, a, b, nan_row, nan_column) in runs {
        for path in paths(gpu) {
            let operands = (&a[..], &b[..]);
            let got = run_and_compare(label, case, operands, None, Activation::Identity, path);
            for (index, value) in got.iter().enumerate() {
                let poisoned =
                    Some(index / case.n) == nan_row || Some(index % case.n) == nan_column;
                assert_eq!(
                    value.is_nan(),
                    poisoned,
                    "{label} {path:?}: C[{index}] = {value}"
                );
            }
        }
    }
}

#[test]
fn preferred_path_follows_the_device() {
    let Some(gpu) = gpu() else { return };
    let preferred = F16Path::preferred(gpu);
    let expected = if gpu.capabilities().shader_f16 {
        F16Path::Native
    } else {
        F16Path::Packed
    };
    assert_eq!(preferred, expected);
    let ones = vec![f16::ONE; 6];
    let a = GpuTensor::upload(gpu, &[2, 3], &ones).unwrap();
    let b = GpuTensor::upload(gpu, &[3, 2], &ones).unwrap();
    let c = matmul_f16(gpu, &a, &b, None, &MatmulOptions::default()).unwrap();
    assert_eq!(c.read::<f16>(gpu).unwrap(), vec![f16::from_f32(3.0); 4]);
}

#[test]
fn native_path_needs_shader_f16() {
    let Some(gpu) = gpu() else { return };
    if gpu.capabilities().shader_f16 {
        return; // The native path runs in every other test.
    }
    let ones = vec![f16::ONE; 4];
    let a = GpuTensor::upload(gpu, &[2, 2], &ones).unwrap();
    let b = GpuTensor::upload(gpu, &[2, 2], &ones).unwrap();
    let options = MatmulOptions::default();
    let result = matmul_f16_with_path(gpu, &a, &b, None, &options, F16Path::Native);
    assert!(matches!(result, Err(Error::MissingFeature { .. })));
}

#[test]
fn dtype_and_shape_errors_are_reported_not_panics() {
    let Some(gpu) = gpu() else { return };
    let options = MatmulOptions::default();
    let a = GpuTensor::upload(gpu, &[2, 3], &[f16::ONE; 6]).unwrap();
    let b = GpuTensor::upload(gpu, &[3, 2], &[f16::ONE; 6]).unwrap();
    let a_f32 = GpuTensor::upload(gpu, &[2, 3], &[1.0f32; 6]).unwrap();
    let b_f32 = GpuTensor::upload(gpu, &[3, 2], &[1.0f32; 6]).unwrap();
    let b_wrong_k = GpuTensor::upload(gpu, &[4, 2], &[f16::ONE; 8]).unwrap();
    let bias_wrong_len = GpuTensor::upload(gpu, &[3], &[1.0f32; 3]).unwrap();
    let bias_f16 = GpuTensor::upload(gpu, &[2], &[f16::ONE; 2]).unwrap();
    for path in [F16Path::Native, F16Path::Packed] {
        let run = |a, b, bias| matmul_f16_with_path(gpu, a, b, bias, &options, path);
        let is_f32_mismatch = |result: kiln::Result<GpuTensor>| {
            matches!(
                result,
                Err(Error::DTypeMismatch {
                    expected: DType::F16,
                    got: DType::F32,
                    ..
                })
            )
        };
        assert!(is_f32_mismatch(run(&a_f32, &b, None)));
        assert!(is_f32_mismatch(run(&a, &b_f32, None)));
        assert!(matches!(
            run(&a, &b_wrong_k, None),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            run(&a, &b, Some(&bias_wrong_len)),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            run(&a, &b, Some(&bias_f16)),
            Err(Error::DTypeMismatch { .. })
        ));
    }
}

#[test]
fn one_row_gemv_with_odd_k_and_n_on_both_paths() {
    let Some(gpu) = gpu() else { return };
    // One row times a transposed B runs the dense GEMV; odd K makes weight rows start mid-word.
    let shapes = [(1, 1), (3, 5), (9, 7), (33, 129), (64, 100)];
    for path in paths(gpu) {
        for (index, &(n, k)) in shapes.iter().enumerate() {
            let case = Case {
                b_transposed: true,
                ..Case::new(1, 1, n, k)
            };
            assert!(kiln::ops::matmul::gemv::gemv_fits(gpu, &case.dims()));
            let activation = Activation::ALL[index * 2 % Activation::ALL.len()];
            check_random(&case, activation, index % 2 == 1, path, 400 + index as u64);
        }
    }
}
