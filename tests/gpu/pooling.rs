//! MaxPool, AveragePool and the global pools against their f64 references: odd sizes, asymmetric
//! pads, ceil_mode, count_include_pad both ways, dilation, stride larger than the window, NaN in a
//! window, global pools on 1×1 and large planes, and f16 through the packed path.

use half::f16;
use kiln::check::{compare, SeededRng};
use kiln::ops::pooling::{
    average_pool2d, average_pool_tolerance, global_average_pool, global_max_pool, max_pool2d,
    pool2d_output_shape, reference_global_pool, reference_pool2d, Pool2dOptions, PoolKind,
};
use kiln::tensor::GpuTensor;
use kiln::Error;

use crate::common::{gpu, random_values};

/// The window geometries every pool is tested on.
fn cases() -> Vec<([usize; 4], Pool2dOptions)> {
    let base = Pool2dOptions::square(3, 2);
    vec![
        ([1, 3, 7, 9], base),
        (
            [2, 2, 7, 9],
            Pool2dOptions {
                ceil_mode: true,
                ..base
            },
        ),
        (
            [1, 2, 6, 7],
            Pool2dOptions {
                pads: [1, 0, 2, 1],
                ceil_mode: true,
                ..base
            },
        ),
        (
            [1, 2, 5, 8],
            Pool2dOptions {
                kernel: [2, 3],
                strides: [1, 2],
                pads: [0, 2, 1, 0],
                ..base
            },
        ),
        (
            [1, 1, 11, 10],
            Pool2dOptions {
                dilations: [2, 3],
                pads: [2, 1, 1, 2],
                ..base
            },
        ),
        ([1, 2, 9, 9], Pool2dOptions::square(2, 3)),
        (
            [1, 1, 4, 4],
            Pool2dOptions {
                pads: [1, 1, 1, 1],
                ceil_mode: true,
                ..Pool2dOptions::square(2, 2)
            },
        ),
        ([1, 1, 1, 1], Pool2dOptions::square(1, 1)),
    ]
}

fn run(kind: PoolKind, shape: [usize; 4], options: &Pool2dOptions, seed: u64) {
    let gpu = gpu().expect("checked by caller");
    let input = random_values(&mut SeededRng::new(seed), shape.iter().product());
    let tensor = GpuTensor::upload(gpu, &shape, &input).unwrap();
    let output = match kind {
        PoolKind::Max => max_pool2d(gpu, &tensor, options),
        PoolKind::Average => average_pool2d(gpu, &tensor, options),
    }
    .unwrap();
    assert_eq!(
        output.shape(),
        pool2d_output_shape(&shape, options).unwrap()
    );
    let want = reference_pool2d(kind, &input, shape, options);
    let tolerance = match kind {
        PoolKind::Max => 0.0,
        PoolKind::Average => average_pool_tolerance(options.kernel[0] * options.kernel[1], 1.0),
    };
    let label = format!("{kind:?} {shape:?} {options:?}");
    compare(
        &label,
        &output.read::<f32>(gpu).unwrap(),
        &want,
        &vec![tolerance; want.len()],
    )
    .assert_passed();
}

#[test]
fn max_pool_matches_reference() {
    if gpu().is_none() {
        return;
    }
    for (index, (shape, options)) in cases().into_iter().enumerate() {
        run(PoolKind::Max, shape, &options, index as u64);
    }
}

#[test]
fn average_pool_matches_reference_with_and_without_padding_counted() {
    if gpu().is_none() {
        return;
    }
    for (index, (shape, options)) in cases().into_iter().enumerate() {
        for count_include_pad in [false, true] {
            let options = Pool2dOptions {
                count_include_pad,
                ..options
            };
            run(PoolKind::Average, shape, &options, 50 + index as u64);
        }
    }
}

#[test]
fn max_pool_propagates_nan() {
    let Some(gpu) = gpu() else { return };
    let mut input: Vec<f32> = (0..25).map(|v| v as f32 - 12.0).collect();
    input[6] = f32::NAN;
    input[24] = f32::INFINITY;
    let tensor = GpuTensor::upload(gpu, &[1, 1, 5, 5], &input).unwrap();
    let options = Pool2dOptions {
        pads: [1, 1, 1, 1],
        ..Pool2dOptions::square(2, 2)
    };
    let got = max_pool2d(gpu, &tensor, &options)
        .unwrap()
        .read::<f32>(gpu)
        .unwrap();
    let want = reference_pool2d(PoolKind::Max, &input, [1, 1, 5, 5], &options);
    assert!(want.iter().filter(|v| v.is_nan()).count() == 1);
    compare("max NaN", &got, &want, &vec![0.0; want.len()]).assert_passed();
}

#[test]
fn global_pools_on_small_and_large_planes() {
    let Some(gpu) = gpu() else { return };
    for (index, shape) in [
        vec![1, 1, 1, 1],
        vec![2, 3, 1, 1],
        vec![2, 5, 7, 9],
        vec![1, 3, 113, 97],
        vec![1, 2, 300],
    ]
    .into_iter()
    .enumerate()
    {
        let mut input = random_values(
            &mut SeededRng::new(200 + index as u64),
            shape.iter().product(),
        );
        let plane_len: usize = shape[2..].iter().product();
        if plane_len > 4 {
            input[plane_len + 3] = f32::NAN;
        }
        let tensor = GpuTensor::upload(gpu, &shape, &input).unwrap();
        let max = global_max_pool(gpu, &tensor).unwrap();
        let mean = global_average_pool(gpu, &tensor).unwrap();
        assert_eq!(&max.shape()[..2], &shape[..2]);
        assert!(max.shape()[2..].iter().all(|&d| d == 1));
        let want_max = reference_global_pool(PoolKind::Max, &input, plane_len);
        let want_mean = reference_global_pool(PoolKind::Average, &input, plane_len);
        let label = format!("global {shape:?}");
        compare(
            &label,
            &max.read(gpu).unwrap(),
            &want_max,
            &vec![0.0; want_max.len()],
        )
        .assert_passed();
        let tolerance = average_pool_tolerance(plane_len, 1.0);
        compare(
            &label,
            &mean.read(gpu).unwrap(),
            &want_mean,
            &vec![tolerance; want_mean.len()],
        )
        .assert_passed();
    }
}

#[test]
fn f16_pools_match_the_reference_on_f16_values() {
    let Some(gpu) = gpu() else { return };
    for (index, (shape, options)) in cases().into_iter().enumerate() {
        let values: Vec<f16> = random_values(
            &mut SeededRng::new(400 + index as u64),
            shape.iter().product(),
        )
        .into_iter()
        .map(f16::from_f32)
        .collect();
        let mut widened: Vec<f32> = values.iter().map(|v| v.to_f32()).collect();
        let mut values = values;
        if widened.len() > 3 {
            values[3] = f16::NAN;
            widened[3] = f32::NAN;
        }
        let tensor = GpuTensor::upload(gpu, &shape, &values).unwrap();
        for kind in [PoolKind::Max, PoolKind::Average] {
            let options = Pool2dOptions {
                count_include_pad: index % 2 == 0,
                ..options
            };
            let output = match kind {
                PoolKind::Max => max_pool2d(gpu, &tensor, &options),
                PoolKind::Average => average_pool2d(gpu, &tensor, &options),
            }
            .unwrap();
            let got: Vec<f32> = output
                .read::<f16>(gpu)
                .unwrap()
                .iter()
                .map(|v| v.to_f32())
                .collect();
            let want = reference_pool2d(kind, &widened, shape, &options);
            // Max is exact. The average is the f32 result rounded once to f16 (half an f16 ulp,
            // 2⁻¹¹ relative, at most 2⁻¹¹ for |values| ≤ 1) plus the f32 sum's error.
            let tolerance = match kind {
                PoolKind::Max => 0.0,
                PoolKind::Average => {
                    2f32.powi(-11)
                        + average_pool_tolerance(options.kernel[0] * options.kernel[1], 1.0)
                }
            };
            let label = format!("f16 {kind:?} {shape:?} {options:?}");
            compare(&label, &got, &want, &vec![tolerance; want.len()]).assert_passed();
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    let Some(gpu) = gpu() else { return };
    let tensor = GpuTensor::upload(gpu, &[1, 4, 4], &[0.0f32; 16]).unwrap();
    let options = Pool2dOptions::square(2, 2);
    assert!(matches!(
        max_pool2d(gpu, &tensor, &options),
        Err(Error::ShapeMismatch { .. })
    ));
    let tensor = GpuTensor::upload(gpu, &[1, 1, 4, 4], &[0i32; 16]).unwrap();
    assert!(matches!(
        average_pool2d(gpu, &tensor, &options),
        Err(Error::DTypeMismatch { .. })
    ));
    let tensor = GpuTensor::upload(gpu, &[1, 1, 4, 4], &[0.0f32; 16]).unwrap();
    let too_big = Pool2dOptions::square(5, 1);
    assert!(matches!(
        max_pool2d(gpu, &tensor, &too_big),
        Err(Error::InvalidArgument { .. })
    ));
    let flat = GpuTensor::upload(gpu, &[4, 4], &[0.0f32; 16]).unwrap();
    assert!(matches!(
        global_max_pool(gpu, &flat),
        Err(Error::ShapeMismatch { .. })
    ));
}
