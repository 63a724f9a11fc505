//! The quantized average pools' references: rounding and saturation on hand-derived windows, the
//! exact value (`x_scale·sum / (y_scale·count)` in f64, rounded half to even) away from rounding
//! ties, the bound of one step against the float path `DQ → AveragePool → Q`, the tap limit, and
//! bad quantization parameters.

use super::qlinear::*;
use super::{reference_pool2d, Pool2dOptions, PoolKind};
use crate::check::SeededRng;
use crate::tensor::quant::{dequantize, quantize_i8, quantize_u8};
use crate::tensor::DType;

/// Zero points 0/128/255 (uint8) and −128/0/127 (int8), with the dtype's range.
const ZERO_POINTS: [(DType, i32, i32, [i32; 3]); 2] = [
    (DType::U8, 0, 255, [0, 128, 255]),
    (DType::I8, -128, 127, [-128, 0, 127]),
];

/// `(x_scale, y_scale)` pairs from 1e-6 to 1e2: equal, averaging down, and saturating.
const SCALES: [(f32, f32); 5] = [
    (1e-6, 1e-6),
    (0.02, 0.05),
    (1e2, 3.0),
    (0.5, 1e2),
    (1e-3, 1e-6),
];

fn quant(dtype: DType, zero: i32, y_zero: i32, (x_scale, y_scale): (f32, f32)) -> QLinearPoolQuant {
    QLinearPoolQuant {
        input_scale: x_scale,
        input_zero_point: zero,
        output_scale: y_scale,
        output_zero_point: y_zero,
        dtype,
    }
}

/// The exact result for a window sum over `count` taps, and whether `v` lies within `1e-4` of a
/// rounding tie (where the f32 multiplier may round either way).
fn exact(quant: &QLinearPoolQuant, sum: i64, count: usize) -> (i32, bool) {
    let (low, high) = quant.range().unwrap();
    let v = if count == 0 {
        0.0
    } else {
        f64::from(quant.input_scale) * sum as f64 / (f64::from(quant.output_scale) * count as f64)
    };
    let near_tie = ((v - v.floor()) - 0.5).abs() < 1e-4 * v.abs().max(1.0);
    let rounded = v.round_ties_even() + f64::from(quant.output_zero_point);
    (
        rounded.clamp(f64::from(low), f64::from(high)) as i32,
        near_tie,
    )
}

/// The float path: dequantize to f32, the float pool's reference, quantize.
fn float_path(quant: &QLinearPoolQuant, pooled: &[f32]) -> Vec<i32> {
    pooled
        .iter()
        .map(|&v| match quant.dtype {
            DType::I8 => i32::from(quantize_i8(
                v,
                quant.output_scale,
                quant.output_zero_point as i8,
            )),
            _ => i32::from(quantize_u8(
                v,
                quant.output_scale,
                quant.output_zero_point as u8,
            )),
        })
        .collect()
}

fn window_options() -> Vec<Pool2dOptions> {
    let padded = Pool2dOptions {
        pads: [1, 0, 2, 1],
        ..Pool2dOptions::square(3, 2)
    };
    vec![
        Pool2dOptions::square(2, 2),
        padded,
        Pool2dOptions {
            count_include_pad: true,
            ..padded
        },
        Pool2dOptions {
            ceil_mode: true,
            ..padded
        },
        Pool2dOptions {
            kernel: [3, 2],
            strides: [1, 3],
            dilations: [2, 1],
            ..Pool2dOptions::square(1, 1)
        },
    ]
}

#[test]
fn windows_round_half_to_even_and_saturate() {
    let unit = quant(DType::I8, 0, 0, (1.0, 1.0));
    let square = Pool2dOptions::square(2, 2);
    // 10 / 4 = 2.5 rounds to 2, 14 / 4 = 3.5 to 4, −10 / 4 = −2.5 to −2.
    for (values, want) in [([1, 2, 3, 4], 2), ([1, 2, 3, 8], 4), ([-1, -2, -3, -4], -2)] {
        let got = reference_qlinear_average_pool2d(&values, [1, 1, 2, 2], &square, &unit).unwrap();
        assert_eq!(got, [want], "{values:?}");
    }
    let tiny_output_scale = quant(DType::U8, 0, 3, (1.0, 1e-6));
    let got = reference_qlinear_average_pool2d(&[9; 4], [1, 1, 2, 2], &square, &tiny_output_scale);
    assert_eq!(got.unwrap(), [255]);
    let below = quant(DType::I8, 100, -120, (1.0, 1e-6));
    let got = reference_qlinear_global_average_pool(&[-128; 9], 9, &below).unwrap();
    assert_eq!(got, [-128]);
}

#[test]
fn pools_are_exact_away_from_ties_and_within_one_step_of_the_float_path() {
    let mut rng = SeededRng::new(13);
    let shape = [2, 3, 7, 5];
    let mut checked = 0;
    for (dtype, low, high, zero_points) in ZERO_POINTS {
        let values = rng.int_vec(shape.iter().product(), low, high);
        for (&zero, &scales) in zero_points.iter().zip(SCALES.iter().cycle()) {
            for scales in [scales, SCALES[(checked / 3) % SCALES.len()]] {
                let quant = quant(dtype, zero, zero_points[2 - checked % 3], scales);
                let dequantized: Vec<f32> = (values.iter())
                    .map(|&q| dequantize(q, quant.input_scale, zero))
                    .collect();
                for options in window_options() {
                    let got =
                        reference_qlinear_average_pool2d(&values, shape, &options, &quant).unwrap();
                    let pooled = reference_pool2d(PoolKind::Average, &dequantized, shape, &options);
                    check_against(&quant, &got, &float_path(&quant, &pooled));
                    check_exact_2d(&quant, &values, shape, &options, &got);
                }
                checked += 1;
            }
        }
    }
}

/// Every output within one step of the float path's.
fn check_against(quant: &QLinearPoolQuant, got: &[i32], float: &[i32]) {
    assert_eq!(got.len(), float.len());
    for (index, (&integer, &float)) in got.iter().zip(float).enumerate() {
        assert!(
            (integer - float).abs() <= 1,
            "{quant:?} output {index}: integer {integer}, float path {float}"
        );
    }
}

/// Every output equal to [`exact`] unless it lies near a rounding tie.
fn check_exact_2d(
    quant: &QLinearPoolQuant,
    values: &[i32],
    [n, c, h, w]: [usize; 4],
    options: &Pool2dOptions,
    got: &[i32],
) {
    // The window sums, through the float reference on small integers (exact in f32): the mean
    // of (q − zp) times the count.
    let shifted: Vec<f32> = values
        .iter()
        .map(|&q| (q - quant.input_zero_point) as f32)
        .collect();
    let means = reference_pool2d(PoolKind::Average, &shifted, [n, c, h, w], options);
    let [out_h, out_w] = options.output_size([h, w]).unwrap();
    assert_eq!(got.len(), n * c * out_h * out_w);
    for (index, &value) in got.iter().enumerate() {
        let count = count_of(options, [h, w], index % (out_h * out_w), out_w);
        let sum = (f64::from(means[index]) * count as f64).round() as i64;
        let (want, near_tie) = exact(quant, sum, count);
        assert!(
            near_tie || value == want,
            "{quant:?} {options:?} output {index}: {value} != {want}"
        );
    }
}

/// The divisor of output `position` (within its plane), counted as ONNX counts it.
fn count_of(options: &Pool2dOptions, [h, w]: [usize; 2], position: usize, out_w: usize) -> usize {
    let along = |axis: usize, size: usize, out: usize| {
        let start = (out * options.strides[axis]) as i64 - options.pads[axis] as i64;
        let padded_end = (size + options.pads[axis + 2]) as i64;
        (0..options.kernel[axis])
            .map(|tap| start + (tap * options.dilations[axis]) as i64)
            .filter(|&p| match options.count_include_pad {
                true => p < padded_end,
                false => (0..size as i64).contains(&p),
            })
            .count()
    };
    along(0, h, position / out_w) * along(1, w, position % out_w)
}

#[test]
fn global_pools_over_small_and_large_planes() {
    let mut rng = SeededRng::new(7);
    for (dtype, low, high, zero_points) in ZERO_POINTS {
        for (plane, &scales) in [1usize, 49, 169, 4096].iter().zip(SCALES.iter().cycle()) {
            let values = rng.int_vec(3 * plane, low, high);
            for &zero in &zero_points {
                let quant = quant(dtype, zero, zero_points[1], scales);
                let got = reference_qlinear_global_average_pool(&values, *plane, &quant).unwrap();
                let dequantized: Vec<f32> = (values.iter())
                    .map(|&q| dequantize(q, quant.input_scale, zero))
                    .collect();
                let pooled = super::reference_global_pool(PoolKind::Average, &dequantized, *plane);
                check_against(&quant, &got, &float_path(&quant, &pooled));
                for (index, chunk) in values.chunks(*plane).enumerate() {
                    let sum: i64 = chunk.iter().map(|&q| i64::from(q - zero)).sum();
                    let (want, near_tie) = exact(&quant, sum, *plane);
                    assert!(near_tie || got[index] == want, "{quant:?} plane {plane}");
                }
            }
        }
    }
}

#[test]
fn the_largest_window_sums_exactly_and_a_larger_one_is_an_error() {
    // 65 793 taps of 255 − 0: the sum 16 777 215 is the largest f32 integer below 2²⁴.
    let taps = MAX_QLINEAR_POOL_TAPS;
    assert_eq!(taps, 65_793);
    assert!(255 * taps < 1 << 24 && 255 * (taps + 1) > 1 << 24);
    let quant = quant(DType::U8, 0, 0, (1.0, 255.0));
    let got = reference_qlinear_global_average_pool(&vec![255; taps], taps, &quant).unwrap();
    assert_eq!(got, [1]);
    let error = reference_qlinear_global_average_pool(&vec![255; taps + 1], taps + 1, &quant);
    assert!(error.unwrap_err().to_string().contains("taps"));
    let wide = Pool2dOptions::square(257, 1);
    let error = reference_qlinear_average_pool2d(&[0; 257 * 257], [1, 1, 257, 257], &wide, &quant);
    assert!(error.is_err());
}

#[test]
fn bad_scales_and_zero_points_are_errors() {
    let good = quant(DType::U8, 128, 128, (0.1, 0.1));
    let cases = [
        (
            QLinearPoolQuant {
                input_scale: 0.0,
                ..good
            },
            "x_scale",
        ),
        (
            QLinearPoolQuant {
                output_scale: -1.0,
                ..good
            },
            "y_scale",
        ),
        (
            QLinearPoolQuant {
                output_scale: f32::NAN,
                ..good
            },
            "y_scale",
        ),
        (
            QLinearPoolQuant {
                input_zero_point: 256,
                ..good
            },
            "x_zero_point",
        ),
        (
            QLinearPoolQuant {
                output_zero_point: -1,
                ..good
            },
            "y_zero_point",
        ),
        (
            QLinearPoolQuant {
                dtype: DType::I8,
                ..good
            },
            "x_zero_point",
        ),
        (
            QLinearPoolQuant {
                dtype: DType::I32,
                ..good
            },
            "int8 or uint8",
        ),
    ];
    for (quant, named) in cases {
        let error = reference_qlinear_global_average_pool(&[1; 4], 4, &quant).unwrap_err();
        assert!(error.to_string().contains(named), "{quant:?}: {error}");
    }
}
