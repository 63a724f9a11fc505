//! Int8 QLinearConv against its reference, exactly, on every dot4 path the device has.

use kiln::check::{compare_exact, SeededRng};
use kiln::ops::conv::{
    conv2d_q8, reference_conv2d_q8, Conv2dParams, GpuQ8ConvWeights, QLinearQuant,
};
use kiln::ops::matmul::int8::Dot4Path;
use kiln::tensor::{GpuTensor, Q8Weights};

use super::{sweep, Case};
use crate::common::gpu;

/// Random int8 operands for `case` with nonzero zero points and an output scale that makes a share
/// of the outputs saturate; runs every available dot4 path and compares exactly.
fn check_q8(case: &Case, seed: u64, saturated: &mut usize) {
    let gpu = gpu().expect("checked by caller");
    let mut rng = SeededRng::new(seed);
    let random_i8 = |rng: &mut SeededRng, count: usize| -> Vec<i8> {
        (0..count).map(|_| rng.int_in(-128, 127) as i8).collect()
    };
    let x = random_i8(&mut rng, case.x_shape().iter().product());
    let w = random_i8(&mut rng, case.w_shape().iter().product());
    let weight_scales = rng.uniform_vec(case.out_channels, 0.002, 0.006);
    // A typical |acc| is about 74² · √K; put it near 100 output steps so the tails saturate.
    let typical = 74.0 * 74.0 * (case.k() as f32).sqrt();
    let quant = QLinearQuant {
        input_scale: rng.uniform(0.01, 0.03),
        input_zero_point: rng.int_in(-100, 100) as i8,
        output_scale: 0.0,
        output_zero_point: rng.int_in(-20, 20) as i8,
    };
    let quant = QLinearQuant {
        output_scale: quant.input_scale * 0.004 * typical / 100.0,
        ..quant
    };
    let bias: Vec<i32> = rng.int_vec(case.out_channels, -2 * typical as i32, 2 * typical as i32);
    let bias_arg = seed.is_multiple_of(2).then_some(&bias[..]);
    let params = &case.params;
    let want = reference_conv2d_q8(
        &x,
        &case.x_shape(),
        &w,
        &case.w_shape(),
        &weight_scales,
        bias_arg,
        &quant,
        params,
    )
    .unwrap();
    *saturated += want.iter().filter(|&&q| q == 127 || q == -128).count();
    let q8 = Q8Weights::from_parts(
        case.out_channels,
        case.k(),
        &w,
        weight_scales,
        vec![0; case.out_channels],
    )
    .unwrap();
    let w_shape: [usize; 4] = case.w_shape().try_into().unwrap();
    let w_gpu = GpuQ8ConvWeights::upload(gpu, &q8, w_shape).unwrap();
    let x_gpu = GpuTensor::upload(gpu, &case.x_shape(), &x).unwrap();
    let bias_gpu = bias_arg.map(|bias| GpuTensor::upload(gpu, &[bias.len()], bias).unwrap());
    let mut paths = vec![Dot4Path::Unpacked];
    if gpu.capabilities().packed_dot4 {
        paths.push(Dot4Path::Builtin);
    }
    let widen = |values: &[i8]| values.iter().map(|&q| i32::from(q)).collect::<Vec<_>>();
    for path in paths {
        let y = conv2d_q8(gpu, &x_gpu, &w_gpu, bias_gpu.as_ref(), &quant, params, path).unwrap();
        let got = widen(&y.read::<i8>(gpu).unwrap());
        compare_exact(&format!("conv int8 {path:?} {case:?}"), &got, &widen(&want)).assert_passed();
    }
}

#[test]
fn int8_matches_reference_exactly_with_saturation() {
    if gpu().is_none() {
        return;
    }
    let mut saturated = 0;
    for (index, case) in sweep().iter().enumerate() {
        check_q8(case, 300 + index as u64, &mut saturated);
    }
    assert!(saturated > 0, "the sweep should saturate some outputs");
}
#[test]
fn int8_accumulators_beyond_2_24_and_uint8_inputs_stay_exact() {
    let Some(gpu) = gpu() else { return };
    // K = 64·9 = 576 with |x − x_zp| = 255 and |w| = 128 almost everywhere: |acc| reaches
    // 576·255·128 ≈ 1.9·10⁷ > 2²⁴, where the i32 → f32 conversion must still round to even.
    let (x_shape, w_shape) = ([1, 64, 3, 3], [4usize, 64, 3, 3]);
    let mut rng = SeededRng::new(600);
    let x: Vec<i8> = (0..576)
        .map(|i| {
            if i % 37 == 0 {
                rng.int_in(-128, 127) as i8
            } else {
                127
            }
        })
        .collect();
    let w: Vec<i8> = (0..4 * 576)
        .map(|i| match i / 576 {
            0 => -128,
            1 => 127,
            _ => rng.int_in(-128, 127) as i8,
        })
        .collect();
    let scales = vec![0.001, 0.0011, 0.0009, 0.001];
    let params = Conv2dParams {
        pads: [1; 4],
        ..Conv2dParams::default()
    };
    let weights = Q8Weights::from_parts(4, 576, &w, scales.clone(), vec![0; 4]).unwrap();
    let w_gpu = GpuQ8ConvWeights::upload(gpu, &weights, w_shape).unwrap();
    // uint8 input with zero point 0 (x_u8 = x + 128) maps to int8 by subtracting 128 from both.
    let x_u8: Vec<u8> = x.iter().map(|&q| (i16::from(q) + 128) as u8).collect();
    let x_mapped: Vec<i8> = x_u8.iter().map(|&q| q.wrapping_sub(128) as i8).collect();
    let quant = QLinearQuant {
        input_scale: 0.01,
        input_zero_point: 0u8.wrapping_sub(128) as i8,
        output_scale: 2.0,
        output_zero_point: 1,
    };
    let want = reference_conv2d_q8(
        &x_mapped, &x_shape, &w, &w_shape, &scales, None, &quant, &params,
    )
    .unwrap();
    let x_gpu = GpuTensor::upload(gpu, &x_shape, &x_mapped).unwrap();
    let widen = |values: &[i8]| values.iter().map(|&q| i32::from(q)).collect::<Vec<_>>();
    for path in [Dot4Path::Unpacked, Dot4Path::preferred(gpu)] {
        let y = conv2d_q8(gpu, &x_gpu, &w_gpu, None, &quant, &params, path).unwrap();
        let got = widen(&y.read::<i8>(gpu).unwrap());
        compare_exact(
            &format!("conv int8 large acc {path:?}"),
            &got,
            &widen(&want),
        )
        .assert_passed();
    }
    assert!(
        want.iter().any(|&q| q != 127 && q != -128),
        "some outputs must be unsaturated"
    );
}
