//! ReduceSum, ReduceMean, ReduceMax and ArgMax against the f64 reference: every axis (negative
//! ones included), axis lists, no axes (= all), keepdims both ways, awkward lengths, NaN, empty
//! reductions, and ArgMax ties with first and last index.

use kiln::check::{compare, compare_exact, SeededRng};
use kiln::ops::reduce::{arg_max, reduce, reference_reduce, ReduceKind, Reduction};
use kiln::tensor::GpuTensor;
use kiln::Error;

use crate::common::gpu;

const FLOAT_KINDS: [ReduceKind; 3] = [ReduceKind::Sum, ReduceKind::Mean, ReduceKind::Max];

fn check(kind: impl Into<Reduction>, x: &[f32], shape: &[usize], axes: &[i64], keepdims: bool) {
    let kind = kind.into();
    let gpu = gpu().expect("checked by caller");
    let x_gpu = GpuTensor::upload(gpu, shape, x).unwrap();
    let reference = reference_reduce(kind, x, shape, axes, keepdims).unwrap();
    let label = format!("{kind:?} {shape:?} axes {axes:?} keepdims {keepdims}");
    let kind = match kind {
        Reduction::ArgMax { select_last_index } => {
            let got = arg_max(gpu, &x_gpu, axes[0], keepdims, select_last_index).unwrap();
            assert_eq!(got.shape(), reference.shape, "{label}");
            let want: Vec<i32> = reference.output.iter().map(|&v| v as i32).collect();
            compare_exact(&label, &got.read::<i32>(gpu).unwrap(), &want).assert_passed();
            return;
        }
        Reduction::Sum => ReduceKind::Sum,
        Reduction::Mean => ReduceKind::Mean,
        Reduction::Max => ReduceKind::Max,
    };
    let got = reduce(gpu, kind, &x_gpu, axes, keepdims).unwrap();
    assert_eq!(got.shape(), reference.shape, "{label}");
    let values = got.read::<f32>(gpu).unwrap();
    compare(
        &label,
        &values,
        &reference.values(),
        &reference.tolerances(),
    )
    .assert_passed();
}

#[test]
fn every_axis_and_axis_list() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(31);
    let shape = [3, 4, 5, 2];
    let x = rng.uniform_vec(shape.iter().product(), -2.0, 2.0);
    let axis_lists: [&[i64]; 9] = [
        &[0],
        &[1],
        &[2],
        &[-1],
        &[-3],
        &[0, 2],
        &[1, -1],
        &[0, 1, 2, 3],
        &[],
    ];
    for (index, axes) in axis_lists.into_iter().enumerate() {
        for kind in FLOAT_KINDS {
            check(kind, &x, &shape, axes, index % 2 == 0);
        }
    }
    for axis in -4..4 {
        for select_last_index in [false, true] {
            let kind = Reduction::ArgMax { select_last_index };
            check(kind, &x, &shape, &[axis], axis % 2 == 0);
        }
    }
}

#[test]
fn long_and_awkward_lengths() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(32);
    for shape in [[1, 1], [1, 7], [3, 255], [2, 257], [2, 1000], [1000, 3]] {
        let x = rng.uniform_vec(shape.iter().product(), -1.0, 3.0);
        for kind in FLOAT_KINDS {
            check(kind, &x, &shape, &[-1], false);
            check(kind, &x, &shape, &[0], true);
        }
        check(
            Reduction::ArgMax {
                select_last_index: false,
            },
            &x,
            &shape,
            &[-1],
            false,
        );
        check(
            Reduction::ArgMax {
                select_last_index: true,
            },
            &x,
            &shape,
            &[0],
            true,
        );
    }
    let rank6 = [2, 3, 1, 2, 3, 2];
    let x = rng.uniform_vec(rank6.iter().product(), -1.0, 1.0);
    for kind in FLOAT_KINDS {
        check(kind, &x, &rank6, &[1, 3, 5], true);
        check(kind, &x, &rank6, &[0, -2], false);
    }
}

#[test]
fn ties_nan_and_infinities() {
    if gpu().is_none() {
        return;
    }
    let (inf, nan) = (f32::INFINITY, f32::NAN);
    #[rustfmt::skip]
    let x = [
        1.0, 3.0, 3.0, -1.0, 3.0,
        -inf, -inf, -inf, -inf, -inf,
        0.0, nan, 2.0, nan, 1.0,
        inf, -inf, 1.0, 2.0, inf,
        -0.0, 0.0, -0.0, -2.0, -3.0,
    ];
    let shape = [5, 5];
    for kind in FLOAT_KINDS {
        check(kind, &x, &shape, &[1], false);
        check(kind, &x, &shape, &[0], true);
    }
    for select_last_index in [false, true] {
        let kind = Reduction::ArgMax { select_last_index };
        check(kind, &x, &shape, &[1], false);
        check(kind, &x, &shape, &[0], true);
    }
}

#[test]
fn empty_reductions_and_errors() {
    let Some(gpu) = gpu() else { return };
    for kind in FLOAT_KINDS {
        check(kind, &[], &[0, 3], &[0], false);
        check(kind, &[], &[3, 0], &[0], true);
    }
    let x = GpuTensor::upload(gpu, &[2, 3], &[0.0f32; 6]).unwrap();
    let bad_axis = reduce(gpu, ReduceKind::Sum, &x, &[2], true);
    assert!(matches!(bad_axis, Err(Error::InvalidArgument { .. })));
    let repeated = reduce(gpu, ReduceKind::Max, &x, &[1, -1], true);
    assert!(matches!(repeated, Err(Error::InvalidArgument { .. })));
    let empty = GpuTensor::upload::<f32>(gpu, &[2, 0], &[]).unwrap();
    assert!(matches!(
        arg_max(gpu, &empty, 1, true, false),
        Err(Error::InvalidArgument { .. })
    ));
    let ints = GpuTensor::upload(gpu, &[2], &[1i32, 2]).unwrap();
    assert!(matches!(
        reduce(gpu, ReduceKind::Sum, &ints, &[], true),
        Err(Error::DTypeMismatch { .. })
    ));
}
