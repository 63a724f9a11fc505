//! ONNX Gemm against its f64 reference (tolerance derived in `kiln::ops::gemm`): every
//! transA/transB combination with every C broadcast shape, alpha and beta, and the fast path
//! through the matmul kernels.

use kiln::check::{compare, SeededRng};
use kiln::ops::gemm::{gemm, reference_gemm, GemmOptions};
use kiln::tensor::GpuTensor;
use kiln::Error;

use crate::common::{gpu, random_values};

fn check_gemm(
    m: usize,
    n: usize,
    k: usize,
    c_shape: Option<&[usize]>,
    options: GemmOptions,
    seed: u64,
) {
    let gpu = gpu().expect("checked by caller");
    let mut rng = SeededRng::new(seed);
    let a_shape = if options.trans_a { [k, m] } else { [m, k] };
    let b_shape = if options.trans_b { [n, k] } else { [k, n] };
    let a = random_values(&mut rng, m * k);
    let b = random_values(&mut rng, k * n);
    let c = c_shape.map(|shape| rng.uniform_vec(shape.iter().product(), -2.0, 2.0));
    let a_gpu = GpuTensor::upload(gpu, &a_shape, &a).unwrap();
    let b_gpu = GpuTensor::upload(gpu, &b_shape, &b).unwrap();
    let c_gpu = c_shape.map(|shape| GpuTensor::upload(gpu, shape, c.as_ref().unwrap()).unwrap());
    let y = gemm(gpu, &a_gpu, &b_gpu, c_gpu.as_ref(), &options).unwrap();
    assert_eq!(y.shape(), [m, n]);
    let got = y.read::<f32>(gpu).unwrap();
    let c_arg = c.as_deref().zip(c_shape);
    let reference = reference_gemm(&a, &a_shape, &b, &b_shape, c_arg, &options).unwrap();
    let label = format!("gemm {m}x{n}x{k} C {c_shape:?} {options:?}");
    compare(&label, &got, &reference.values(), &reference.tolerances()).assert_passed();
}

#[test]
fn every_transpose_with_every_c_broadcast() {
    if gpu().is_none() {
        return;
    }
    let (m, n, k) = (17, 33, 19);
    let c_shapes: [Option<&[usize]>; 7] = [
        None,
        Some(&[]),
        Some(&[1]),
        Some(&[n]),
        Some(&[m, 1]),
        Some(&[1, n]),
        Some(&[m, n]),
    ];
    let mut seed = 0;
    for trans_a in [false, true] {
        for trans_b in [false, true] {
            for c_shape in c_shapes {
                seed += 1;
                let options = GemmOptions {
                    alpha: 0.75,
                    beta: -1.5,
                    trans_a,
                    trans_b,
                };
                check_gemm(m, n, k, c_shape, options, seed);
            }
        }
    }
}

#[test]
fn larger_odd_shapes_and_special_alpha_beta() {
    if gpu().is_none() {
        return;
    }
    let cases: [(usize, usize, usize, f32, f32); 5] = [
        (67, 70, 131, 2.0, 0.5),
        (1, 129, 40, -1.0, 1.0),
        (65, 1, 17, 0.5, 0.0),
        (5, 7, 0, 1.5, 2.0),
        (1, 1, 1, 3.0, -1.0),
    ];
    for (index, (m, n, k, alpha, beta)) in cases.into_iter().enumerate() {
        let options = GemmOptions {
            alpha,
            beta,
            trans_a: index % 2 == 0,
            trans_b: index % 3 == 0,
        };
        check_gemm(m, n, k, Some(&[m, n]), options, 100 + index as u64);
    }
}

#[test]
fn plain_bias_gemms_take_the_matmul_path_and_match() {
    if gpu().is_none() {
        return;
    }
    for (index, (m, n, k, trans_b)) in [(17, 33, 19, false), (16, 32, 64, true), (1, 65, 33, true)]
        .into_iter()
        .enumerate()
    {
        let options = GemmOptions {
            trans_b,
            ..GemmOptions::default()
        };
        check_gemm(m, n, k, Some(&[n]), options, 200 + index as u64);
        check_gemm(m, n, k, None, options, 210 + index as u64);
    }
}

#[test]
fn rejects_shapes_that_do_not_fit() {
    let Some(gpu) = gpu() else { return };
    let upload = |shape: &[usize]| {
        let len = shape.iter().product();
        GpuTensor::upload(gpu, shape, &vec![1.0f32; len]).unwrap()
    };
    let (a, b) = (upload(&[3, 4]), upload(&[4, 5]));
    let options = GemmOptions::default();
    let shape_error =
        |result: kiln::Result<GpuTensor>| matches!(result, Err(Error::ShapeMismatch { .. }));
    assert!(shape_error(gemm(
        gpu,
        &upload(&[2, 3, 4]),
        &b,
        None,
        &options
    )));
    assert!(shape_error(gemm(
        gpu,
        &a,
        &upload(&[2, 4, 5]),
        None,
        &options
    )));
    assert!(shape_error(gemm(gpu, &a, &upload(&[5, 5]), None, &options)));
    let transposed = GemmOptions {
        trans_a: true,
        ..options
    };
    assert!(shape_error(gemm(gpu, &a, &b, None, &transposed)));
    for c_shape in [&[3][..], &[5, 1], &[1, 3, 5], &[2, 5], &[3, 4]] {
        let c = upload(c_shape);
        assert!(
            shape_error(gemm(gpu, &a, &b, Some(&c), &options)),
            "C {c_shape:?}"
        );
    }
    let ints = GpuTensor::upload(gpu, &[3, 4], &[1i32; 12]).unwrap();
    let result = gemm(gpu, &ints, &b, None, &options);
    assert!(matches!(result, Err(Error::DTypeMismatch { .. })));
}
