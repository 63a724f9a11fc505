//! The integer pooling kernels against their references, bit for bit: QLinearAveragePool and
//! QLinearGlobalAveragePool (int8 and uint8, zero points 0/128/255 and −128/0/127, scales 1e-6…1e2,
//! saturation, pads, strides, dilations, ceil_mode, count_include_pad, odd sizes, planes up to the
//! 65 793-tap limit), GlobalMaxPool and nearest Resize on int8/uint8.

use kiln::check::SeededRng;
use kiln::device::Gpu;
use kiln::ops::pooling::{
    global_max_pool, qlinear_average_pool2d, qlinear_global_average_pool, reference_global_pool,
    reference_qlinear_average_pool2d, reference_qlinear_global_average_pool, Pool2dOptions,
    PoolKind, QLinearPoolQuant, MAX_QLINEAR_POOL_TAPS,
};
use kiln::ops::resize::{reference_resize, resize, CoordinateMode, NearestMode, ResizeMode};
use kiln::ops::resize::{ResizeOptions, ResizeTarget};
use kiln::tensor::{DType, GpuTensor};

use crate::common::gpu;

/// Per dtype: its range and the zero points to try.
const TYPES: [(DType, i32, i32, [i32; 3]); 2] = [
    (DType::U8, 0, 255, [0, 128, 255]),
    (DType::I8, -128, 127, [-128, 0, 127]),
];

/// `(x_scale, y_scale)`: equal, shrinking, growing (saturating), at both ends of 1e-6…1e2.
const SCALES: [(f32, f32); 4] = [(1e-6, 1e-6), (0.02, 0.05), (1e2, 3.0), (1e-3, 1e-6)];

fn upload(gpu: &Gpu, dtype: DType, shape: &[usize], values: &[i32]) -> GpuTensor {
    match dtype {
        DType::I8 => {
            let bytes: Vec<i8> = values.iter().map(|&v| v as i8).collect();
            GpuTensor::upload(gpu, shape, &bytes).unwrap()
        }
        _ => {
            let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
            GpuTensor::upload(gpu, shape, &bytes).unwrap()
        }
    }
}

fn read(gpu: &Gpu, tensor: &GpuTensor) -> Vec<i32> {
    match tensor.dtype() {
        DType::I8 => tensor
            .read::<i8>(gpu)
            .unwrap()
            .into_iter()
            .map(i32::from)
            .collect(),
        _ => tensor
            .read::<u8>(gpu)
            .unwrap()
            .into_iter()
            .map(i32::from)
            .collect(),
    }
}

/// The first index where `got` and `want` differ, for the failure message.
#[track_caller]
fn assert_exact(label: &str, got: &[i32], want: &[i32]) {
    assert_eq!(got.len(), want.len(), "{label}: lengths");
    if let Some(index) = (0..got.len()).find(|&i| got[i] != want[i]) {
        panic!(
            "{label}: element {index}: GPU {} != reference {}",
            got[index], want[index]
        );
    }
}

fn windows() -> Vec<([usize; 4], Pool2dOptions)> {
    let padded = Pool2dOptions {
        pads: [1, 0, 2, 1],
        ..Pool2dOptions::square(3, 2)
    };
    vec![
        ([1, 3, 7, 5], Pool2dOptions::square(2, 2)),
        ([2, 1, 9, 11], padded),
        (
            [1, 2, 9, 11],
            Pool2dOptions {
                count_include_pad: true,
                ..padded
            },
        ),
        (
            [1, 2, 8, 7],
            Pool2dOptions {
                ceil_mode: true,
                ..padded
            },
        ),
        (
            [1, 5, 6, 9],
            Pool2dOptions {
                kernel: [3, 2],
                strides: [1, 3],
                dilations: [2, 1],
                ..Pool2dOptions::square(1, 1)
            },
        ),
        ([1, 3, 5, 5], Pool2dOptions::square(5, 1)),
    ]
}

#[test]
fn quantized_average_pool_matches_the_reference_bit_for_bit() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(31);
    for (dtype, low, high, zero_points) in TYPES {
        for (case, (shape, options)) in windows().into_iter().enumerate() {
            let values = rng.int_vec(shape.iter().product(), low, high);
            let tensor = upload(gpu, dtype, &shape, &values);
            for (index, &zero) in zero_points.iter().enumerate() {
                let (input_scale, output_scale) = SCALES[(case + index) % SCALES.len()];
                let quant = QLinearPoolQuant {
                    input_scale,
                    input_zero_point: zero,
                    output_scale,
                    output_zero_point: zero_points[2 - index],
                    dtype,
                };
                let want =
                    reference_qlinear_average_pool2d(&values, shape, &options, &quant).unwrap();
                let got = qlinear_average_pool2d(gpu, &tensor, &options, &quant).unwrap();
                assert_exact(
                    &format!("{shape:?} {options:?} {quant:?}"),
                    &read(gpu, &got),
                    &want,
                );
            }
        }
    }
}

#[test]
fn quantized_global_average_pool_matches_the_reference_on_small_and_large_planes() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(32);
    // 1×1, 7×7 and 13×13 planes, 6 or 5 planes (not whole output words), and one plane of 65 793.
    let shapes = [
        vec![1, 6, 1, 1],
        vec![2, 3, 7, 7],
        vec![1, 5, 13, 13],
        vec![1, 1, MAX_QLINEAR_POOL_TAPS],
    ];
    for (dtype, low, high, zero_points) in TYPES {
        for (case, shape) in shapes.iter().enumerate() {
            let count = shape.iter().product();
            // The largest plane holds the type's extremes only: the sum is as far from 0 as it gets.
            let values = match case {
                3 => vec![if dtype == DType::U8 { high } else { low }; count],
                _ => rng.int_vec(count, low, high),
            };
            let tensor = upload(gpu, dtype, shape, &values);
            let plane: usize = shape[2..].iter().product();
            for (index, &zero) in zero_points.iter().enumerate() {
                let (input_scale, output_scale) = SCALES[(case + index) % SCALES.len()];
                let quant = QLinearPoolQuant {
                    input_scale,
                    input_zero_point: zero,
                    output_scale,
                    output_zero_point: zero_points[(index + 1) % 3],
                    dtype,
                };
                let want = reference_qlinear_global_average_pool(&values, plane, &quant).unwrap();
                let got = qlinear_global_average_pool(gpu, &tensor, &quant).unwrap();
                let mut out_shape = shape.clone();
                out_shape[2..].fill(1);
                assert_eq!(got.shape(), out_shape);
                assert_exact(
                    &format!("global {shape:?} {quant:?}"),
                    &read(gpu, &got),
                    &want,
                );
            }
        }
    }
}

#[test]
fn global_max_pool_and_nearest_resize_copy_8_bit_values_exactly() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(33);
    for (dtype, low, high, _) in TYPES {
        let shape = [2, 3, 5, 7];
        let values = rng.int_vec(shape.iter().product(), low, high);
        let as_f32: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let tensor = upload(gpu, dtype, &shape, &values);
        let max = global_max_pool(gpu, &tensor).unwrap();
        assert_eq!(max.shape(), [2, 3, 1, 1]);
        let want: Vec<i32> = reference_global_pool(PoolKind::Max, &as_f32, 35)
            .iter()
            .map(|&v| v as i32)
            .collect();
        assert_exact("global max", &read(gpu, &max), &want);
        for (coordinates, target) in [
            (CoordinateMode::HalfPixel, ResizeTarget::Scales([1.7, 0.6])),
            (CoordinateMode::AlignCorners, ResizeTarget::Sizes([9, 3])),
            (CoordinateMode::Asymmetric, ResizeTarget::Scales([2.0, 2.0])),
        ] {
            let options = ResizeOptions {
                mode: ResizeMode::Nearest(NearestMode::RoundPreferFloor),
                coordinates,
                target,
            };
            let (out_shape, want) = reference_resize(&as_f32, shape, &options).unwrap();
            let got = resize(gpu, &tensor, &options).unwrap();
            assert_eq!(got.shape(), out_shape);
            let want: Vec<i32> = want.iter().map(|&v| v as i32).collect();
            assert_exact(&format!("resize {options:?}"), &read(gpu, &got), &want);
        }
        let linear = ResizeOptions {
            mode: ResizeMode::Linear,
            ..ResizeOptions::scales(2.0, 2.0)
        };
        assert!(
            resize(gpu, &tensor, &linear).is_err(),
            "linear resize of {dtype}"
        );
    }
}

#[test]
fn bad_quantized_pool_inputs_are_errors() {
    let Some(gpu) = gpu() else { return };
    let quant = QLinearPoolQuant {
        input_scale: 0.1,
        input_zero_point: 3,
        output_scale: 0.1,
        output_zero_point: 3,
        dtype: DType::U8,
    };
    let bytes = upload(gpu, DType::U8, &[1, 1, 4, 4], &[7; 16]);
    let floats = GpuTensor::upload(gpu, &[1, 1, 4, 4], &[0.0f32; 16]).unwrap();
    let square = Pool2dOptions::square(2, 2);
    assert!(qlinear_average_pool2d(gpu, &floats, &square, &quant).is_err());
    let zero_scale = QLinearPoolQuant {
        output_scale: 0.0,
        ..quant
    };
    assert!(qlinear_global_average_pool(gpu, &bytes, &zero_scale).is_err());
    let signed_zero = QLinearPoolQuant {
        dtype: DType::I8,
        ..quant
    };
    assert!(qlinear_average_pool2d(gpu, &bytes, &square, &signed_zero).is_err());
    let too_many = upload(
        gpu,
        DType::U8,
        &[1, 1, MAX_QLINEAR_POOL_TAPS + 1],
        &vec![0; MAX_QLINEAR_POOL_TAPS + 1],
    );
    let Err(error) = qlinear_global_average_pool(gpu, &too_many, &quant) else {
        panic!(
            "a plane of {} taps must be refused",
            MAX_QLINEAR_POOL_TAPS + 1
        );
    };
    assert!(error.to_string().contains("taps"), "{error}");
}
