//! The depthwise int8 QLinearConv kernel against the int8 kernel's reference, exactly: odd plane
//! sizes (whole and straddling output words), channel multipliers 1 and 2, strides, pads,
//! dilations, int8 and uint8 activations with the edge zero points, per-channel weight scales
//! across 1e-6..1e2, saturation, bias and fused Relu; and `conv2d_q8_with` taking it for depthwise
//! convolutions.

use kiln::check::{compare_exact, SeededRng};
use kiln::ops::conv::{
    conv2d_q8_depthwise, conv2d_q8_with, reference_conv2d_q8, Conv2dParams, GpuQ8ConvWeights,
    Q8ConvEpilogue, QLinearQuant,
};
use kiln::ops::matmul::int8::Dot4Path;
use kiln::tensor::{DType, GpuTensor, Q8Weights};

use super::{case, Case};
use crate::common::gpu;

/// Depthwise problems: channels 3/17/33, planes 7×9 and 13×13 (63 and 169 pixels: output words
/// straddle planes) and 8×8 (whole words), kernels 1×1/3×3/5×5/3×5, strides 1/2, symmetric and
/// asymmetric pads, dilation 2, batch 2 and a channel multiplier of 2 (M = 2C).
fn depthwise_sweep() -> Vec<Case> {
    vec![
        case((1, 3, [7, 9]), (3, [3, 3]), ([1, 1], [1; 4], [1, 1], 3)),
        case(
            (2, 17, [13, 13]),
            (17, [3, 3]),
            ([2, 2], [1; 4], [1, 1], 17),
        ),
        case(
            (1, 33, [7, 9]),
            (33, [5, 5]),
            ([1, 2], [2, 1, 0, 2], [1, 1], 33),
        ),
        case(
            (1, 17, [13, 13]),
            (17, [3, 3]),
            ([1, 1], [2; 4], [2, 2], 17),
        ),
        case(
            (1, 3, [8, 8]),
            (6, [3, 5]),
            ([1, 1], [1, 2, 1, 2], [1, 1], 3),
        ),
        case(
            (2, 33, [16, 16]),
            (33, [3, 3]),
            ([2, 2], [0, 0, 1, 1], [1, 1], 33),
        ),
        case((1, 17, [7, 9]), (17, [1, 1]), ([1, 1], [0; 4], [1, 1], 17)),
    ]
}

/// The edge zero points in the kernel's int8 terms: int8 −128/0/127, and for uint8 (whose zero
/// point z the kernel takes as z − 128) 0/128/255.
const EDGE_ZERO_POINTS: [i8; 3] = [-128, 0, 127];

/// Int8 values as the dtype's bytes: uint8 is int8 with the top bit flipped.
fn as_bytes(values: &[i8], dtype: DType) -> Vec<i32> {
    let flip = if dtype == DType::U8 { 0x80 } else { 0 };
    values
        .iter()
        .map(|&q| i32::from((q as u8) ^ flip))
        .collect()
}

/// Everything one run varies besides the shape.
#[derive(Clone, Copy, Debug)]
struct Variant {
    epilogue: Q8ConvEpilogue,
    input_zero_point: i8,
    output_zero_point: i8,
    bias: bool,
    /// Weight scales log-uniform over 1e-6..1e2 (else a narrow 0.002..0.006 band).
    wide_scales: bool,
}

/// One problem's operands and its reference output (int8 terms, Relu applied).
struct Problem {
    x: Vec<i8>,
    q8: Q8Weights,
    bias: Option<Vec<i32>>,
    quant: QLinearQuant,
    want: Vec<i8>,
}

/// Random operands for `case` under `variant`: the median channel's typical accumulator lands near
/// 60 output steps, so with wide weight scales some channels saturate and others round to the zero
/// point; the wide variant's input scale is 1e-6 or 1e2.
fn problem(case: &Case, variant: Variant, seed: u64) -> Problem {
    let mut rng = SeededRng::new(seed);
    let mut random_i8 =
        |count: usize| -> Vec<i8> { (0..count).map(|_| rng.int_in(-128, 127) as i8).collect() };
    let x = random_i8(case.x_shape().iter().product());
    let w = random_i8(case.w_shape().iter().product());
    let taps = case.kernel[0] * case.kernel[1];
    let mut rng = SeededRng::new(seed + 1);
    let weight_scales: Vec<f32> = (0..case.out_channels)
        .map(|_| match variant.wide_scales {
            true => 10f32.powf(rng.uniform(-6.0, 2.0)),
            false => rng.uniform(0.002, 0.006),
        })
        .collect();
    // A typical |acc| is about 74² · √taps (uniform bytes have a standard deviation of 74).
    let typical = 74.0 * 74.0 * (taps as f32).sqrt();
    let (input_scale, median_scale) = match (variant.wide_scales, seed % 2) {
        (true, 0) => (1e-6, 1e-2),
        (true, _) => (1e2, 1e-2),
        (false, _) => (0.02, 0.004),
    };
    let quant = QLinearQuant {
        input_scale,
        input_zero_point: variant.input_zero_point,
        output_scale: input_scale * median_scale * typical / 60.0,
        output_zero_point: variant.output_zero_point,
    };
    let bias = rng.int_vec(case.out_channels, -2 * typical as i32, 2 * typical as i32);
    let bias = variant.bias.then_some(bias);
    let (x_shape, w_shape) = (case.x_shape(), case.w_shape());
    let mut want = reference_conv2d_q8(
        &x,
        &x_shape,
        &w,
        &w_shape,
        &weight_scales,
        bias.as_deref(),
        &quant,
        &case.params,
    )
    .unwrap();
    if variant.epilogue.relu {
        want.iter_mut()
            .for_each(|q| *q = (*q).max(quant.output_zero_point));
    }
    let channels = case.out_channels;
    let q8 = Q8Weights::from_parts(channels, taps, &w, weight_scales, vec![0; channels]).unwrap();
    Problem {
        x,
        q8,
        bias,
        quant,
        want,
    }
}

/// Runs `case` under `variant` on the depthwise kernel and through `conv2d_q8_with`, compares both
/// with the reference exactly, and returns (saturated, unsaturated) output counts.
fn check(case: &Case, variant: Variant, seed: u64) -> (usize, usize) {
    let gpu = gpu().expect("checked by caller");
    let Problem {
        x,
        q8,
        bias,
        quant,
        want,
    } = problem(case, variant, seed);
    let w_gpu = GpuQ8ConvWeights::upload(gpu, &q8, case.w_shape().try_into().unwrap()).unwrap();
    let x_gpu = match variant.epilogue.input {
        DType::U8 => {
            let x_u8: Vec<u8> = x.iter().map(|&q| (q as u8) ^ 0x80).collect();
            GpuTensor::upload(gpu, &case.x_shape(), &x_u8).unwrap()
        }
        _ => GpuTensor::upload(gpu, &case.x_shape(), &x).unwrap(),
    };
    let bias_gpu = bias.map(|bias| GpuTensor::upload(gpu, &[bias.len()], &bias).unwrap());
    let operands = (&x_gpu, &w_gpu, bias_gpu.as_ref());
    let (params, epilogue) = (&case.params, variant.epilogue);
    let direct = conv2d_q8_depthwise(gpu, operands, &quant, params, epilogue);
    let routed = conv2d_q8_with(gpu, operands, &quant, params, Dot4Path::Unpacked, epilogue);
    let want_bytes = as_bytes(&want, epilogue.output);
    for y in [direct.unwrap(), routed.unwrap()] {
        let got: Vec<i32> = match epilogue.output {
            DType::U8 => (y.read::<u8>(gpu).unwrap().iter())
                .map(|&b| i32::from(b))
                .collect(),
            _ => (y.read::<i8>(gpu).unwrap().iter())
                .map(|&b| i32::from(b as u8))
                .collect(),
        };
        let label = format!("depthwise int8 {case:?} {variant:?}");
        compare_exact(&label, &got, &want_bytes).assert_passed();
    }
    let saturated = want.iter().filter(|&&q| q == 127 || q == -128).count();
    (saturated, want.len() - saturated)
}

#[test]
fn depthwise_int8_matches_reference_exactly_on_edge_zero_points_and_scales() {
    if gpu().is_none() {
        return;
    }
    let dtypes = [DType::I8, DType::U8];
    let (mut saturated, mut unsaturated) = (0, 0);
    for (index, case) in depthwise_sweep().iter().enumerate() {
        for (variant_index, &input) in dtypes.iter().enumerate() {
            let output = dtypes[(index + variant_index) % 2];
            let zero_point = EDGE_ZERO_POINTS[(index + variant_index) % 3];
            let variant = Variant {
                epilogue: Q8ConvEpilogue {
                    input,
                    output,
                    relu: index % 2 == 1,
                },
                input_zero_point: zero_point,
                output_zero_point: EDGE_ZERO_POINTS[(index + 2 * variant_index) % 3],
                bias: (index + variant_index) % 2 == 0,
                wide_scales: variant_index == 1,
            };
            let (more_saturated, more_unsaturated) = check(case, variant, 900 + index as u64);
            saturated += more_saturated;
            unsaturated += more_unsaturated;
        }
    }
    assert!(saturated > 0, "the sweep should saturate some outputs");
    assert!(
        unsaturated > 0,
        "the sweep should leave some outputs unsaturated"
    );
}

#[test]
fn depthwise_int8_refuses_a_convolution_with_several_channels_per_group() {
    let Some(gpu) = gpu() else { return };
    let q8 = Q8Weights::from_parts(4, 18, &[1i8; 72], vec![0.01; 4], vec![0; 4]).unwrap();
    let w_gpu = GpuQ8ConvWeights::upload(gpu, &q8, [4, 2, 3, 3]).unwrap();
    let x_gpu = GpuTensor::upload(gpu, &[1, 4, 5, 5], &[0i8; 100]).unwrap();
    let params = Conv2dParams {
        groups: 2,
        ..Conv2dParams::default()
    };
    let quant = QLinearQuant {
        input_scale: 0.1,
        input_zero_point: 0,
        output_scale: 0.1,
        output_zero_point: 0,
    };
    let result = conv2d_q8_depthwise(
        gpu,
        (&x_gpu, &w_gpu, None),
        &quant,
        &params,
        Q8ConvEpilogue::default(),
    );
    assert!(
        matches!(result, Err(kiln::Error::InvalidArgument { .. })),
        "{:?}",
        result.map(|y| y.shape().to_vec())
    );
}
