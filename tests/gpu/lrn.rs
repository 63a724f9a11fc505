//! LRN against its f64 reference (tolerance derived in `kiln::ops::normalization`'s `lrn`): odd
//! channel counts, even and odd window sizes (one wider than the channels), ranks 2 to 5, and
//! edge values (zeros, large and tiny magnitudes, mixed signs).

use kiln::check::{compare, SeededRng};
use kiln::ops::normalization::{lrn, reference_lrn, LrnAttrs};
use kiln::tensor::GpuTensor;
use kiln::Error;

use crate::common::{gpu, random_values};

/// Runs LRN on the GPU and compares it with the reference, printing the worst element on failure.
fn check(label: &str, x: &[f32], shape: &[usize], attrs: &LrnAttrs) {
    let gpu = gpu().expect("checked by caller");
    let x_gpu = GpuTensor::upload(gpu, shape, x).unwrap();
    let got = lrn(gpu, &x_gpu, attrs).unwrap();
    assert_eq!(got.shape(), shape, "{label}");
    let reference = reference_lrn(x, shape, attrs).unwrap();
    let label = format!("{label} {shape:?} {attrs:?}");
    compare(
        &label,
        &got.read::<f32>(gpu).unwrap(),
        &reference.values(),
        &reference.tolerances(),
    )
    .assert_passed();
}

fn attrs(size: usize, alpha: f32, beta: f32, bias: f32) -> LrnAttrs {
    LrnAttrs {
        size,
        alpha,
        beta,
        bias,
    }
}

#[test]
fn lrn_matches_reference_on_odd_channels_and_every_window() {
    if gpu().is_none() {
        return;
    }
    let shapes: [&[usize]; 5] = [
        &[1, 3, 5, 5],
        &[2, 7, 4, 3],
        &[3, 5],
        &[2, 13, 3, 3, 2],
        &[1, 1, 7, 9],
    ];
    let settings = [
        attrs(1, 1e-4, 0.75, 1.0),
        attrs(2, 0.5, 1.0, 2.0),
        attrs(3, 2.0, 0.3, 0.5),
        attrs(4, 1e-4, 0.75, 1.0),
        attrs(5, 1.0, 0.75, 1.0),
        attrs(9, 3.0, 1.5, 1.0),
    ];
    for (index, shape) in shapes.into_iter().enumerate() {
        let mut rng = SeededRng::new(70 + index as u64);
        let x: Vec<f32> = random_values(&mut rng, shape.iter().product())
            .into_iter()
            .map(|value| value * 3.0)
            .collect();
        for setting in &settings {
            check("random", &x, shape, setting);
        }
    }
}

#[test]
fn lrn_edge_values() {
    if gpu().is_none() {
        return;
    }
    let shape = [1, 5, 2, 3];
    let count: usize = shape.iter().product();
    let zeros = vec![0.0f32; count];
    let large: Vec<f32> = (0..count)
        .map(|i| if i % 2 == 0 { 1e6 } else { -3e5 })
        .collect();
    let tiny: Vec<f32> = (0..count).map(|i| (i as f32 - 15.0) * 1e-20).collect();
    let mixed: Vec<f32> = (0..count)
        .map(|i| [0.0, -1e4, 1e-30, 7.5, -0.0][i % 5])
        .collect();
    for setting in [attrs(3, 1e-4, 0.75, 1.0), attrs(4, 1.0, 0.75, 1e-3)] {
        for (label, x) in [
            ("zeros", &zeros),
            ("large", &large),
            ("tiny", &tiny),
            ("mixed", &mixed),
        ] {
            check(label, x, &shape, &setting);
        }
    }
}

#[test]
fn lrn_empty_and_bad_input() {
    let Some(gpu) = gpu() else { return };
    let empty = GpuTensor::upload::<f32>(gpu, &[0, 3, 2], &[]).unwrap();
    let y = lrn(gpu, &empty, &attrs(3, 1e-4, 0.75, 1.0)).unwrap();
    assert_eq!(y.shape(), [0, 3, 2]);
    let rank1 = GpuTensor::upload(gpu, &[3], &[1.0f32, 2.0, 3.0]).unwrap();
    let rank1 = lrn(gpu, &rank1, &attrs(3, 1e-4, 0.75, 1.0));
    assert!(matches!(rank1, Err(Error::ShapeMismatch { .. })));
    let x = GpuTensor::upload(gpu, &[1, 3], &[1.0f32, 2.0, 3.0]).unwrap();
    let no_window = lrn(gpu, &x, &attrs(0, 1e-4, 0.75, 1.0));
    assert!(matches!(no_window, Err(Error::InvalidArgument { .. })));
    let ints = GpuTensor::upload(gpu, &[1, 3], &[1i32, 2, 3]).unwrap();
    let ints = lrn(gpu, &ints, &attrs(3, 1e-4, 0.75, 1.0));
    assert!(matches!(ints, Err(Error::DTypeMismatch { .. })));
}
