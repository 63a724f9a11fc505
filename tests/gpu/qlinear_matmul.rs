//! QLinearMatMul on the GPU (the int8 kernel with its requantizing store) against the reference:
//! int8/uint8 operands and outputs, per-column weight scales from 1e-6 to 1e2, zero points at
//! the types' extremes, saturation, an i32 bias and a fused Relu; exact.

use kiln::check::{compare_exact, SeededRng};
use kiln::ops::matmul::int8::{
    integer_weights, qlinear_matmul, reference_matmul_integer, reference_qlinear_matmul, Dot4Path,
    GpuQ8Weights, IntegerProduct, Requantization,
};
use kiln::tensor::DType;

use crate::common::gpu;
use crate::quantized_integer::{upload_host, Operand};

/// The exact accumulators of `a` `[m, k]` times `b` `[k, n]` (scalar zero points).
fn accumulators(a: &Operand, b: &Operand, [m, k, n]: [usize; 3]) -> Vec<i32> {
    reference_matmul_integer(&IntegerProduct {
        a: &a.values,
        b: &b.values,
        dims: [m, k, n],
        a_zero_points: &vec![a.zero_points[0]; m],
        b_zero_points: &vec![b.zero_points[0]; n],
    })
    .into_iter()
    .map(|sum| i32::try_from(sum).unwrap())
    .collect()
}

fn check(label: &str, a: &Operand, b: &Operand, dims: [usize; 3], requant: &Requantization) {
    let gpu = gpu().expect("checked by caller");
    let [m, k, n] = dims;
    let weights = integer_weights(&b.host(&[k, n], &b.values), Some(&b.zero_point_tensor()));
    let w_gpu = GpuQ8Weights::upload(gpu, &weights.unwrap()).unwrap();
    let a_gpu = upload_host(&a.host(&[m, k], &a.values));
    let a_zero_point = upload_host(&a.zero_point_tensor());
    let want = reference_qlinear_matmul(&accumulators(a, b, dims), requant);
    for path in [Dot4Path::Builtin, Dot4Path::Unpacked] {
        if path.check_supported(gpu).is_err() {
            continue;
        }
        let y = qlinear_matmul(gpu, &a_gpu, Some(&a_zero_point), &w_gpu, requant, path).unwrap();
        assert_eq!(
            (y.shape(), y.dtype()),
            (&[m, n][..], requant.output),
            "{label}"
        );
        let got: Vec<i32> = match requant.output {
            DType::I8 => y
                .read::<i8>(gpu)
                .unwrap()
                .into_iter()
                .map(i32::from)
                .collect(),
            _ => y
                .read::<u8>(gpu)
                .unwrap()
                .into_iter()
                .map(i32::from)
                .collect(),
        };
        compare_exact(&format!("{label} {path:?}"), &got, &want).assert_passed();
    }
}

#[test]
fn qlinear_matmul_matches_the_reference_exactly() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(1313);
    let dims = [[1, 1, 1], [3, 5, 7], [65, 67, 66], [2, 130, 3]];
    let zero_points = |signed: bool| -> [i64; 3] {
        if signed {
            [-128, 0, 127]
        } else {
            [0, 128, 255]
        }
    };
    let mut case = 0;
    for (a_signed, b_signed, output) in [
        (false, true, DType::U8),
        (true, true, DType::I8),
        (false, false, DType::I8),
        (true, false, DType::U8),
    ] {
        for &[m, k, n] in &dims {
            case += 1;
            let a_zero = zero_points(a_signed)[case % 3];
            let b_zero = zero_points(b_signed)[(case + 1) % 3];
            let y_zero = zero_points(output == DType::I8)[(case + 2) % 3] as i32;
            let a = Operand::random(&mut rng, a_signed, m * k, vec![a_zero]);
            let b = Operand::random(&mut rng, b_signed, k * n, vec![b_zero]);
            // Per-column scales across 1e-6 … 1e2; y_scale sets the typical output to about 40
            // steps, so the columns with large scales saturate and the small ones round to 0.
            let b_scales: Vec<f32> = (0..n)
                .map(|col| 10f32.powi(col as i32 % 9 - 6) * rng.uniform(1.0, 9.0))
                .collect();
            let a_scale = rng.uniform(0.002, 0.05);
            let y_scale = a_scale * 0.02 * (k as f32).sqrt() * 128.0 * 128.0 / 40.0;
            let mut requant =
                Requantization::new(a_scale, &b_scales, y_scale, y_zero, output).unwrap();
            let label = format!("{a_signed}/{b_signed} → {output} {m}×{k}×{n}");
            check(&label, &a, &b, [m, k, n], &requant);
            requant.bias = Some((0..n).map(|_| rng.int_in(-300_000, 300_000)).collect());
            requant.relu = true;
            check(
                &format!("{label} + bias, Relu"),
                &a,
                &b,
                [m, k, n],
                &requant,
            );
        }
    }
}

#[test]
fn requantization_rejects_bad_scales_and_zero_points() {
    assert!(Requantization::new(0.0, &[1.0], 1.0, 0, DType::I8).is_err());
    assert!(Requantization::new(1.0, &[f32::NAN], 1.0, 0, DType::I8).is_err());
    assert!(Requantization::new(1.0, &[1.0], -1.0, 0, DType::U8).is_err());
    assert!(Requantization::new(1.0, &[1.0], 1.0, 128, DType::I8).is_err());
    assert!(Requantization::new(1.0, &[1.0], 1.0, -1, DType::U8).is_err());
    assert!(Requantization::new(1.0, &[1.0], 1.0, 0, DType::I32).is_err());
}
