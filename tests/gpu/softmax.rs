//! Softmax and LogSoftmax against the f64 reference on every axis (negative ones included), rows
//! shorter and longer than a workgroup, large logits, and numpy's special rows (NaN, +inf, -inf).

use kiln::check::{compare, SeededRng};
use kiln::ops::softmax::{log_softmax, reference_softmax, softmax};
use kiln::tensor::GpuTensor;
use kiln::Error;

use crate::common::gpu;

fn check(x: &[f32], shape: &[usize], axis: i64) {
    let gpu = gpu().expect("checked by caller");
    let x_gpu = GpuTensor::upload(gpu, shape, x).unwrap();
    for log in [false, true] {
        let run = if log { log_softmax } else { softmax };
        let got = run(gpu, &x_gpu, axis).unwrap();
        assert_eq!(got.shape(), shape);
        let reference = reference_softmax(x, shape, axis, log).unwrap();
        let label = format!(
            "{} {shape:?} axis {axis}",
            if log { "LogSoftmax" } else { "Softmax" }
        );
        compare(
            &label,
            &got.read::<f32>(gpu).unwrap(),
            &reference.values(),
            &reference.tolerances(),
        )
        .assert_passed();
    }
}

#[test]
fn every_axis_of_assorted_shapes() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(21);
    let shapes: [&[usize]; 5] = [
        &[1],
        &[7],
        &[4, 7, 5],
        &[2, 3, 1, 4, 5],
        &[3, 2, 1, 2, 3, 2],
    ];
    for shape in shapes {
        let x = rng.uniform_vec(shape.iter().product(), -6.0, 6.0);
        let rank = shape.len() as i64;
        for axis in -rank..rank {
            check(&x, shape, axis);
        }
    }
}

#[test]
fn long_rows_and_large_logits() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(22);
    for shape in [[3, 255], [2, 257], [2, 1000]] {
        let x = rng.uniform_vec(shape.iter().product(), -40.0, 60.0);
        check(&x, &shape, -1);
        check(&x, &shape, 0);
    }
    let huge: Vec<f32> = (0..300).map(|i| 1.0e4 + (i % 17) as f32).collect();
    check(&huge, &[300], 0);
}

#[test]
fn special_rows_follow_numpy() {
    if gpu().is_none() {
        return;
    }
    let (inf, nan) = (f32::INFINITY, f32::NAN);
    #[rustfmt::skip]
    let x = [
        1.0, 2.0, -inf, 3.0,      // -inf element: 0 (LogSoftmax -inf)
        -inf, -inf, -inf, -inf,   // all -inf: NaN
        1.0, inf, 2.0, 0.0,       // +inf: NaN
        nan, 1.0, 2.0, 3.0,       // NaN: NaN
        -inf, 5.0, -inf, -inf,    // one finite: 1 (LogSoftmax 0)
    ];
    check(&x, &[5, 4], 1);
    check(&x, &[5, 4], 0);
}

#[test]
fn empty_tensors_and_bad_axes() {
    let Some(gpu) = gpu() else { return };
    let empty = GpuTensor::upload::<f32>(gpu, &[0, 3], &[]).unwrap();
    assert_eq!(softmax(gpu, &empty, 1).unwrap().shape(), [0, 3]);
    let x = GpuTensor::upload(gpu, &[2, 3], &[0.0f32; 6]).unwrap();
    assert!(matches!(
        softmax(gpu, &x, 2),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        log_softmax(gpu, &x, -3),
        Err(Error::InvalidArgument { .. })
    ));
}
