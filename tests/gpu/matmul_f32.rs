//! f32 matmul against the f64 reference, with tolerances derived from K (see
//! `kiln::ops::matmul::reference`).

use kiln::check::{compare, SeededRng};
use kiln::device::Gpu;
use kiln::ops::matmul::f32::{matmul_f32_with_path, vec4_loads_fit, F32LoadPath};
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::matmul::{reference_matmul, MatmulOptions};
use kiln::ops::Activation;
use kiln::tensor::GpuTensor;
use kiln::Error;

use crate::common::{gpu, random_values, shape_sweep, Case};

fn check_case(case: &Case, activation: Activation, with_bias: bool, path: F32LoadPath, seed: u64) {
    let gpu = gpu().expect("checked by caller");
    check_case_on(gpu, case, activation, with_bias, path, seed);
}

/// `case` on `gpu` through `path`, with seeded operands, against the f64 reference.
pub(crate) fn check_case_on(
    gpu: &Gpu,
    case: &Case,
    activation: Activation,
    with_bias: bool,
    path: F32LoadPath,
    seed: u64,
) {
    let mut rng = SeededRng::new(seed);
    let a = random_values(&mut rng, case.batch * case.m * case.k);
    let b = random_values(&mut rng, case.b_len());
    let bias = rng.uniform_vec(case.n, -2.0, 2.0);
    let options = MatmulOptions {
        b_transposed: case.b_transposed,
        activation,
    };
    let a_gpu = GpuTensor::upload(gpu, &case.a_shape(), &a).unwrap();
    let b_gpu = GpuTensor::upload(gpu, &case.b_shape(), &b).unwrap();
    let bias_gpu = GpuTensor::upload(gpu, &[case.n], &bias).unwrap();
    let bias_arg = with_bias.then_some(&bias_gpu);
    let c = matmul_f32_with_path(gpu, &a_gpu, &b_gpu, bias_arg, &options, path).unwrap();
    let got = c.read::<f32>(gpu).unwrap();
    let reference = reference_matmul(
        &a,
        &b,
        &case.dims(),
        with_bias.then_some(&bias[..]),
        activation,
    );
    let label = format!("f32 {path:?} {case:?} {activation:?} bias={with_bias}");
    compare(
        &label,
        &got,
        &reference.values(),
        &reference.tolerances(OutputPrecision::F32),
    )
    .assert_passed();
}

#[test]
fn matches_reference_over_the_shape_sweep_on_both_load_paths() {
    if gpu().is_none() {
        return;
    }
    for (index, case) in shape_sweep().iter().enumerate() {
        check_case(
            case,
            Activation::Identity,
            index % 2 == 0,
            F32LoadPath::Scalar,
            index as u64,
        );
        if vec4_loads_fit(&case.dims()) {
            check_case(
                case,
                Activation::Identity,
                index % 2 == 1,
                F32LoadPath::Vec4,
                index as u64,
            );
        }
    }
}

#[test]
fn fused_bias_and_every_activation() {
    if gpu().is_none() {
        return;
    }
    let case = Case::new(2, 33, 36, 20);
    for (index, activation) in Activation::ALL.into_iter().enumerate() {
        check_case(
            &case,
            activation,
            true,
            F32LoadPath::Auto,
            100 + index as u64,
        );
    }
}

#[test]
fn large_magnitudes_and_nan_propagate_like_the_reference() {
    let Some(gpu) = gpu() else { return };
    let (m, n, k) = (5, 6, 7);
    let mut a: Vec<f32> = (0..m * k).map(|i| (i as f32 - 17.0) * 1.0e15).collect();
    a[2 * k + 3] = f32::NAN;
    let b: Vec<f32> = (0..k * n)
        .map(|i| {
            if i % 3 == 0 {
                0.0
            } else {
                (i as f32) * -1.0e-12
            }
        })
        .collect();
    let a_gpu = GpuTensor::upload(gpu, &[m, k], &a).unwrap();
    let b_gpu = GpuTensor::upload(gpu, &[k, n], &b).unwrap();
    let got = matmul_f32_with_path(
        gpu,
        &a_gpu,
        &b_gpu,
        None,
        &MatmulOptions::default(),
        F32LoadPath::Scalar,
    )
    .unwrap()
    .read::<f32>(gpu)
    .unwrap();
    let reference = reference_matmul(
        &a,
        &b,
        &kiln::ops::matmul::MatmulDims::infer("t", &[m, k], &[k, n], false).unwrap(),
        None,
        Activation::Identity,
    );
    compare(
        "f32 edge values",
        &got,
        &reference.values(),
        &reference.tolerances(OutputPrecision::F32),
    )
    .assert_passed();
    assert!(
        got[2 * n..3 * n].iter().all(|v| v.is_nan()),
        "row with a NaN input must be NaN"
    );
}

#[test]
fn shape_errors_are_reported_not_panics() {
    let Some(gpu) = gpu() else { return };
    let a = GpuTensor::upload(gpu, &[2, 3], &[1.0f32; 6]).unwrap();
    let b = GpuTensor::upload(gpu, &[4, 2], &[1.0f32; 8]).unwrap();
    let options = MatmulOptions::default();
    let result = matmul_f32_with_path(gpu, &a, &b, None, &options, F32LoadPath::Auto);
    assert!(matches!(result, Err(Error::ShapeMismatch { .. })));
    let b = GpuTensor::upload(gpu, &[3, 2], &[1.0f32; 6]).unwrap();
    let bad_bias = GpuTensor::upload(gpu, &[3], &[1.0f32; 3]).unwrap();
    let result = matmul_f32_with_path(gpu, &a, &b, Some(&bad_bias), &options, F32LoadPath::Auto);
    assert!(matches!(result, Err(Error::ShapeMismatch { .. })));
    let result = matmul_f32_with_path(gpu, &a, &b, None, &options, F32LoadPath::Vec4);
    assert!(matches!(result, Err(Error::InvalidArgument { .. })));
}

#[test]
fn one_row_times_transposed_b_runs_the_gemv_and_matches() {
    let Some(gpu) = gpu() else { return };
    let dims_of = |n: usize, k: usize| Case {
        b_transposed: true,
        ..Case::new(1, 1, n, k)
    };
    let shapes = [(1, 1), (7, 3), (9, 4), (17, 129), (65, 256), (130, 33)];
    for (index, &(n, k)) in shapes.iter().enumerate() {
        let case = dims_of(n, k);
        assert!(kiln::ops::matmul::gemv::gemv_fits(gpu, &case.dims()));
        let activation = Activation::ALL[index % Activation::ALL.len()];
        check_case(
            &case,
            activation,
            index % 2 == 0,
            F32LoadPath::Auto,
            300 + index as u64,
        );
    }
}
