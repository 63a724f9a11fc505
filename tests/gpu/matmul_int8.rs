//! Int8 W8A8 matmul against its references, on both dot-product paths: i32 accumulators must match
//! exactly, dequantized f32 within the tolerance derived in `kiln::ops::matmul::int8`.

use kiln::check::{compare, compare_exact, SeededRng};
use kiln::ops::matmul::int8::{
    matmul_q8, matmul_q8_i32, reference_q8, reference_q8_i32, Dot4Path, GpuQ8Activations,
    GpuQ8Weights, MAX_K,
};
use kiln::ops::Activation;
use kiln::tensor::{GpuTensor, Q8Activations, Q8Weights};
use kiln::Error;

use crate::common::{gpu, shape_sweep, Case};

const PATHS: [Dot4Path; 2] = [Dot4Path::Builtin, Dot4Path::Unpacked];

fn random_i8(rng: &mut SeededRng, count: usize) -> Vec<i8> {
    (0..count).map(|_| rng.int_in(-128, 127) as i8).collect()
}

/// `rows × k` random activations with a random scale and the given zero point.
fn random_activations(rng: &mut SeededRng, rows: usize, k: usize, zero_point: i8) -> Q8Activations {
    let values = random_i8(rng, rows * k);
    let scale = rng.uniform(0.005, 0.02);
    Q8Activations::from_parts(rows, k, &values, scale, zero_point).unwrap()
}

/// `n × k` random weights with random per-row scales; zero points all 0 when `symmetric`.
fn random_weights(rng: &mut SeededRng, n: usize, k: usize, symmetric: bool) -> Q8Weights {
    let values = random_i8(rng, n * k);
    let scales = rng.uniform_vec(n, 0.005, 0.02);
    let zero_points = if symmetric {
        vec![0; n]
    } else {
        random_i8(rng, n)
    };
    Q8Weights::from_parts(n, k, &values, scales, zero_points).unwrap()
}

fn expected_shape(batch: usize, m: usize, n: usize) -> Vec<usize> {
    if batch == 1 {
        vec![m, n]
    } else {
        vec![batch, m, n]
    }
}

fn check_i32(label: &str, a: &Q8Activations, w: &Q8Weights, batch: usize, m: usize) {
    let gpu = gpu().expect("checked by caller");
    let a_gpu = GpuQ8Activations::upload(gpu, a, batch, m).unwrap();
    let w_gpu = GpuQ8Weights::upload(gpu, w).unwrap();
    let want = reference_q8_i32(a, w, batch, m);
    for path in PATHS {
        let c = matmul_q8_i32(gpu, &a_gpu, &w_gpu, path).unwrap();
        assert_eq!(c.shape(), expected_shape(batch, m, w.rows), "{label}");
        let got = c.read::<i32>(gpu).unwrap();
        compare_exact(&format!("int8 i32 {path:?} {label}"), &got, &want).assert_passed();
    }
}

fn check_f32(
    label: &str,
    (a, w): (&Q8Activations, &Q8Weights),
    (batch, m): (usize, usize),
    bias: Option<&[f32]>,
    activation: Activation,
) {
    let gpu = gpu().expect("checked by caller");
    let a_gpu = GpuQ8Activations::upload(gpu, a, batch, m).unwrap();
    let w_gpu = GpuQ8Weights::upload(gpu, w).unwrap();
    let bias_gpu = bias.map(|bias| GpuTensor::upload(gpu, &[bias.len()], bias).unwrap());
    let (want, tolerances) = reference_q8(a, w, batch, m, bias, activation);
    for path in PATHS {
        let c = matmul_q8(gpu, &a_gpu, &w_gpu, bias_gpu.as_ref(), activation, path).unwrap();
        assert_eq!(c.shape(), expected_shape(batch, m, w.rows), "{label}");
        let got = c.read::<f32>(gpu).unwrap();
        let has_bias = bias.is_some();
        let label = format!("int8 f32 {path:?} {label} {activation:?} bias={has_bias}");
        compare(&label, &got, &want, &tolerances).assert_passed();
    }
}

#[test]
fn matches_reference_over_the_shape_sweep() {
    if gpu().is_none() {
        return;
    }
    // W is always [N, K] and shared by every batch, so the sweep's B layout flags do not apply.
    for (index, case) in shape_sweep().into_iter().enumerate() {
        let Case { batch, m, n, k, .. } = case;
        if k == 0 {
            continue; // no Q8 layout holds an empty matrix (from_parts rejects it)
        }
        let mut rng = SeededRng::new(index as u64);
        let a_zero_point = rng.int_in(-128, 127) as i8;
        let a = random_activations(&mut rng, batch * m, k, a_zero_point);
        for symmetric in [true, false] {
            let w = random_weights(&mut rng, n, k, symmetric);
            check_i32(&format!("{case:?} symmetric={symmetric}"), &a, &w, batch, m);
        }
        let w = random_weights(&mut rng, n, k, false);
        let bias = rng.uniform_vec(n, -2.0, 2.0);
        let bias = (index % 2 == 0).then_some(&bias[..]);
        let label = format!("{case:?}");
        check_f32(&label, (&a, &w), (batch, m), bias, Activation::Identity);
    }
}

#[test]
fn saturating_values_and_extreme_zero_points() {
    if gpu().is_none() {
        return;
    }
    // Rows all -128, all 127 and alternating, against zero points that put (q − zp) at ±255.
    let k = 301;
    let patterns = [[-128i8, -128], [127, 127], [-128, 127]];
    let rows: Vec<i8> = patterns
        .iter()
        .flat_map(|pair| pair.iter().copied().cycle().take(k))
        .collect();
    let w_values = rows.repeat(3);
    let w_zero_points: Vec<i8> = [127, -127, -128].iter().flat_map(|&z| [z; 3]).collect();
    let w = Q8Weights::from_parts(9, k, &w_values, vec![0.01; 9], w_zero_points).unwrap();
    for a_zero_point in [127, -127, -128, 0] {
        let a = Q8Activations::from_parts(3, k, &rows, 0.01, a_zero_point).unwrap();
        check_i32(&format!("saturating a_zp={a_zero_point}"), &a, &w, 1, 3);
    }
}

#[test]
fn accumulators_at_the_k_limit_are_exact() {
    if gpu().is_none() {
        return;
    }
    // (a − a_zp)·(w − w_zp) = ±255² at every k for the first row: ±2 130 739 200, just inside i32.
    let a_values = [vec![127i8; MAX_K], [127, -128].repeat(MAX_K / 2)].concat();
    let a = Q8Activations::from_parts(2, MAX_K, &a_values, 1.0, -128).unwrap();
    let w_values = [vec![-128i8; MAX_K], vec![127; MAX_K]].concat();
    let w = Q8Weights::from_parts(2, MAX_K, &w_values, vec![1.0; 2], vec![127, -128]).unwrap();
    assert_eq!(
        reference_q8_i32(&a, &w, 1, 2)[..2],
        [-2_130_739_200, 2_130_739_200]
    );
    check_i32("K = MAX_K", &a, &w, 1, 2);
    // Accumulators near 2³¹ also test the f32 conversion's share of the store tolerance.
    check_f32("K = MAX_K", (&a, &w), (1, 2), None, Activation::Identity);
}

#[test]
fn k_not_a_multiple_of_four_ignores_row_padding() {
    if gpu().is_none() {
        return;
    }
    for k in [1, 2, 3, 5, 7] {
        let mut rng = SeededRng::new(200 + k as u64);
        let mut a = random_activations(&mut rng, 2 * 5, k, -3);
        let mut w = random_weights(&mut rng, 6, k, false);
        check_i32(&format!("K = {k}"), &a, &w, 2, 5);
        // The contract says padding bytes are 0; the kernel masks them anyway, so bytes set there
        // by hand must not change the result.
        for (data, stride) in [(&mut a.data, a.row_stride), (&mut w.data, w.row_stride)] {
            for row in data.chunks_exact_mut(stride) {
                row[k..].fill(-77);
            }
        }
        check_i32(&format!("K = {k}, padding -77"), &a, &w, 2, 5);
    }
}

#[test]
fn fused_bias_and_every_activation() {
    if gpu().is_none() {
        return;
    }
    let (batch, m, n, k) = (2, 33, 36, 20);
    let mut rng = SeededRng::new(300);
    let a = random_activations(&mut rng, batch * m, k, 5);
    let w = random_weights(&mut rng, n, k, false);
    let bias = rng.uniform_vec(n, -2.0, 2.0);
    for activation in Activation::ALL {
        check_f32("bias", (&a, &w), (batch, m), Some(&bias), activation);
    }
    check_f32("no bias", (&a, &w), (batch, m), None, Activation::Gelu);
}

/// The error a call returned, for matching on its variant.
fn error_of<T>(result: Result<T, Error>) -> Error {
    result.err().expect("the call should have failed")
}

#[test]
fn shape_errors_are_reported_not_panics() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(400);
    let a = random_activations(&mut rng, 6, 5, 0);
    let w = random_weights(&mut rng, 4, 5, true);
    for (batch, m) in [(2, 4), (4, 2)] {
        let upload = GpuQ8Activations::upload(gpu, &a, batch, m);
        assert!(matches!(error_of(upload), Error::ShapeMismatch { .. }));
    }
    let a_gpu = GpuQ8Activations::upload(gpu, &a, 2, 3).unwrap();
    let w_k6 = GpuQ8Weights::upload(gpu, &random_weights(&mut rng, 4, 6, true)).unwrap();
    let (none, path) = (Activation::Identity, Dot4Path::preferred(gpu));
    let k_mismatch = error_of(matmul_q8_i32(gpu, &a_gpu, &w_k6, path));
    assert!(matches!(k_mismatch, Error::ShapeMismatch { .. }));
    let k_mismatch = error_of(matmul_q8(gpu, &a_gpu, &w_k6, None, none, path));
    assert!(matches!(k_mismatch, Error::ShapeMismatch { .. }));
    let w_gpu = GpuQ8Weights::upload(gpu, &w).unwrap();
    let short_bias = GpuTensor::upload(gpu, &[3], &[0.0f32; 3]).unwrap();
    let bias_error = error_of(matmul_q8(
        gpu,
        &a_gpu,
        &w_gpu,
        Some(&short_bias),
        none,
        path,
    ));
    assert!(matches!(bias_error, Error::ShapeMismatch { .. }));
    let int_bias = GpuTensor::upload(gpu, &[4], &[0i32; 4]).unwrap();
    let bias_error = error_of(matmul_q8(gpu, &a_gpu, &w_gpu, Some(&int_bias), none, path));
    assert!(matches!(bias_error, Error::DTypeMismatch { .. }));
}

#[test]
fn k_beyond_the_limit_and_broken_layouts_are_errors() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(500);
    let long_a = random_activations(&mut rng, 1, MAX_K + 1, 0);
    let long_w = random_weights(&mut rng, 1, MAX_K + 1, true);
    let long_a = GpuQ8Activations::upload(gpu, &long_a, 1, 1).unwrap();
    let long_w = GpuQ8Weights::upload(gpu, &long_w).unwrap();
    for path in PATHS {
        let too_long = error_of(matmul_q8_i32(gpu, &long_a, &long_w, path));
        assert!(matches!(too_long, Error::InvalidArgument { .. }));
    }
    let mut stale_row_sums = random_weights(&mut rng, 3, 5, false);
    stale_row_sums.data[0] = stale_row_sums.data[0].wrapping_add(1);
    let stale = error_of(GpuQ8Weights::upload(gpu, &stale_row_sums));
    assert!(matches!(stale, Error::InvalidArgument { .. }));
    let mut short_data = random_activations(&mut rng, 2, 5, 0);
    short_data.data.truncate(12);
    let short = error_of(GpuQ8Activations::upload(gpu, &short_data, 1, 2));
    assert!(matches!(short, Error::ShapeMismatch { .. }));
}
