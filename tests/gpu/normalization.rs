//! BatchNormalization, its folding into a convolution, and LayerNormalization against their f64
//! references (tolerances derived in `kiln::ops::normalization`).

use kiln::check::{compare, SeededRng};
use kiln::ops::conv::{reference_conv2d, Conv2dParams};
use kiln::ops::normalization::{
    batch_normalization, fold_batchnorm_into_conv, layer_normalization, reference_batchnorm,
    reference_layernorm, BatchNormParams, LayerNormOptions,
};
use kiln::ops::Activation;
use kiln::tensor::GpuTensor;
use kiln::Error;

use crate::common::{gpu, random_values};

fn random_bn(rng: &mut SeededRng, channels: usize, epsilon: f32) -> BatchNormParams {
    BatchNormParams {
        scale: rng.uniform_vec(channels, -2.0, 2.0),
        bias: rng.uniform_vec(channels, -1.0, 1.0),
        mean: rng.uniform_vec(channels, -1.0, 1.0),
        var: rng.uniform_vec(channels, 0.01, 4.0),
        epsilon,
    }
}

#[test]
fn batchnorm_matches_reference_on_rank_2_4_and_5() {
    let Some(gpu) = gpu() else { return };
    let cases: [(&[usize], f32); 5] = [
        (&[7, 5], 1e-5),
        (&[1, 1], 0.0),
        (&[2, 3, 9, 11], 1e-3),
        (&[3, 7, 1, 13], 0.1),
        (&[2, 3, 4, 5, 6], 1e-5),
    ];
    for (index, (shape, epsilon)) in cases.into_iter().enumerate() {
        let mut rng = SeededRng::new(10 + index as u64);
        let params = random_bn(&mut rng, shape[1], epsilon);
        let x = random_values(&mut rng, shape.iter().product());
        let x_gpu = GpuTensor::upload(gpu, shape, &x).unwrap();
        let got = batch_normalization(gpu, &x_gpu, &params)
            .unwrap()
            .read::<f32>(gpu)
            .unwrap();
        let reference = reference_batchnorm(&x, shape, &params).unwrap();
        let label = format!("batchnorm {shape:?} eps {epsilon}");
        compare(&label, &got, &reference.values(), &reference.tolerances()).assert_passed();
    }
}

#[test]
fn batchnorm_rejects_bad_shapes() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(1);
    let params = random_bn(&mut rng, 3, 1e-5);
    let rank_1 = GpuTensor::upload(gpu, &[3], &[1.0f32; 3]).unwrap();
    let wrong_channels = GpuTensor::upload(gpu, &[2, 4], &[1.0f32; 8]).unwrap();
    for x in [&rank_1, &wrong_channels] {
        let result = batch_normalization(gpu, x, &params);
        assert!(matches!(result, Err(Error::ShapeMismatch { .. })));
    }
    let mut short_var = params.clone();
    short_var.var.pop();
    let x = GpuTensor::upload(gpu, &[2, 3], &[1.0f32; 6]).unwrap();
    let result = batch_normalization(gpu, &x, &short_var);
    assert!(matches!(result, Err(Error::ShapeMismatch { .. })));
    let negative_epsilon = BatchNormParams {
        epsilon: -1.0,
        ..params
    };
    let result = batch_normalization(gpu, &x, &negative_epsilon);
    assert!(matches!(result, Err(Error::InvalidArgument { .. })));
}

/// A direct NCHW convolution in f64 (stride 1, symmetric zero padding, groups), written out as
/// dot products: returns the output and, per element, Σ|x·w| + |b| (the scale of its error).
fn direct_conv(
    x: &[f32],
    x_shape: [usize; 4],
    w: &[f32],
    w_shape: [usize; 4],
    bias: &[f32],
    pad: usize,
    groups: usize,
) -> (Vec<f64>, Vec<f64>) {
    let [batch, channels, height, width] = x_shape;
    let [out_channels, group_channels, kernel_h, kernel_w] = w_shape;
    assert_eq!(channels, group_channels * groups);
    let out_h = height + 2 * pad - kernel_h + 1;
    let out_w = width + 2 * pad - kernel_w + 1;
    let (mut output, mut magnitude) = (Vec::new(), Vec::new());
    for n in 0..batch {
        for m in 0..out_channels {
            let group = m / (out_channels / groups);
            for oy in 0..out_h {
                for ox in 0..out_w {
                    let mut sum = f64::from(bias[m]);
                    let mut size = sum.abs();
                    for c in 0..group_channels {
                        let channel = group * group_channels + c;
                        for ky in 0..kernel_h {
                            for kx in 0..kernel_w {
                                let (iy, ix) = (
                                    (oy + ky) as isize - pad as isize,
                                    (ox + kx) as isize - pad as isize,
                                );
                                if iy < 0 || ix < 0 || iy >= height as isize || ix >= width as isize
                                {
                                    continue;
                                }
                                let xv = x[((n * channels + channel) * height + iy as usize)
                                    * width
                                    + ix as usize];
                                let wv =
                                    w[((m * group_channels + c) * kernel_h + ky) * kernel_w + kx];
                                let product = f64::from(xv) * f64::from(wv);
                                sum += product;
                                size += product.abs();
                            }
                        }
                    }
                    output.push(sum);
                    magnitude.push(size);
                }
            }
        }
    }
    (output, magnitude)
}

#[test]
fn conv_then_batchnorm_equals_the_folded_conv() {
    for (seed, x_shape, w_shape, pad, groups) in [
        (1, [2, 3, 6, 5], [4, 3, 3, 3], 1, 1),
        (2, [1, 4, 5, 7], [6, 2, 3, 1], 0, 2),
        (3, [1, 5, 4, 4], [5, 1, 3, 3], 1, 5),
    ] {
        let mut rng = SeededRng::new(seed);
        let x = rng.uniform_vec(x_shape.iter().product(), -1.0, 1.0);
        let w = rng.uniform_vec(w_shape.iter().product(), -1.0, 1.0);
        let bias = rng.uniform_vec(w_shape[0], -1.0, 1.0);
        let bn = random_bn(&mut rng, w_shape[0], 1e-3);
        let with_bias = seed != 2;
        let conv_bias = if with_bias {
            bias.clone()
        } else {
            vec![0.0; w_shape[0]]
        };
        let (conv, _) = direct_conv(&x, x_shape, &w, w_shape, &conv_bias, pad, groups);
        let conv_f32: Vec<f32> = conv.iter().map(|&v| v as f32).collect();
        let conv_shape = [
            x_shape[0],
            w_shape[0],
            conv.len() / x_shape[0] / w_shape[0],
            1,
        ];
        let want = reference_batchnorm(&conv_f32, &conv_shape, &bn).unwrap();
        let (folded_w, folded_b) =
            fold_batchnorm_into_conv(&w, &w_shape, with_bias.then_some(&bias[..]), &bn).unwrap();
        let (got, magnitude) = direct_conv(&x, x_shape, &folded_w, w_shape, &folded_b, pad, groups);
        // Both sides are exact in f64 but for roundings to f32: the conv output before BN (u of
        // it, times the BN multiplier), each folded weight and bias (u of Σ|x·w'| + |b'|), and
        // the BN reference's own output (u of |y|): 4u of their sum bounds them all.
        let u = f64::from(f32::EPSILON) / 2.0;
        let tolerances: Vec<f32> = magnitude
            .iter()
            .zip(&want.magnitude)
            .zip(&want.output)
            .map(|((&folded, &bn_side), &y)| (4.0 * u * (folded + bn_side + y.abs())) as f32)
            .collect();
        let got: Vec<f32> = got.iter().map(|&v| v as f32).collect();
        let conv_params = Conv2dParams {
            pads: [pad; 4],
            groups,
            ..Conv2dParams::default()
        };
        let library = reference_conv2d(
            &x,
            &x_shape,
            &folded_w,
            &w_shape,
            Some(&folded_b),
            &conv_params,
            Activation::Identity,
        )
        .unwrap()
        .values();
        let label = format!("fold via reference_conv2d {w_shape:?} groups {groups}");
        compare(&label, &library, &want.values(), &tolerances).assert_passed();
        compare(
            &format!("fold {w_shape:?} groups {groups}"),
            &got,
            &want.values(),
            &tolerances,
        )
        .assert_passed();
    }
}

#[test]
fn fold_rejects_mismatched_shapes() {
    let mut rng = SeededRng::new(4);
    let bn = random_bn(&mut rng, 2, 1e-5);
    let w = [1.0f32; 12];
    assert!(fold_batchnorm_into_conv(&w, &[3, 2, 2, 1], None, &bn).is_err());
    assert!(fold_batchnorm_into_conv(&w, &[2, 2, 2, 2], None, &bn).is_err());
    assert!(fold_batchnorm_into_conv(&w, &[2, 3, 2, 1], Some(&[1.0]), &bn).is_err());
    assert!(fold_batchnorm_into_conv(&w, &[2, 3, 2, 1], Some(&[1.0, 2.0]), &bn).is_ok());
}

fn check_layernorm(shape: &[usize], axis: i64, x: &[f32], with_bias: bool, seed: u64) {
    let gpu = gpu().expect("checked by caller");
    let options = LayerNormOptions {
        axis,
        epsilon: if seed.is_multiple_of(2) { 1e-5 } else { 1e-3 },
    };
    let first = if axis < 0 {
        shape.len() as i64 + axis
    } else {
        axis
    } as usize;
    let normalized = &shape[first..];
    let row_len: usize = normalized.iter().product();
    let mut rng = SeededRng::new(seed);
    let scale = rng.uniform_vec(row_len, -2.0, 2.0);
    let bias = rng.uniform_vec(row_len, -1.0, 1.0);
    let x_gpu = GpuTensor::upload(gpu, shape, x).unwrap();
    let scale_gpu = GpuTensor::upload(gpu, normalized, &scale).unwrap();
    let bias_gpu = GpuTensor::upload(gpu, normalized, &bias).unwrap();
    let got = layer_normalization(
        gpu,
        &x_gpu,
        &scale_gpu,
        with_bias.then_some(&bias_gpu),
        &options,
    )
    .unwrap()
    .read::<f32>(gpu)
    .unwrap();
    let reference =
        reference_layernorm(x, shape, &scale, with_bias.then_some(&bias[..]), &options).unwrap();
    let label = format!("layernorm {shape:?} axis {axis} bias {with_bias}");
    compare(&label, &got, &reference.values(), &reference.tolerances).assert_passed();
}

#[test]
fn layernorm_over_the_last_one_two_and_three_dims() {
    if gpu().is_none() {
        return;
    }
    let cases: [(&[usize], i64); 6] = [
        (&[5, 7], -1),
        (&[3, 4, 6], 1),
        (&[2, 3, 4, 5], 1),
        (&[2, 3, 4, 5], -2),
        (&[300, 3], -1),
        (&[2, 4097], 1),
    ];
    for (index, (shape, axis)) in cases.into_iter().enumerate() {
        let mut rng = SeededRng::new(40 + index as u64);
        // An offset far from zero makes the naive E[x²] − E[x]² formula visibly wrong.
        let offset = if index == 2 { 100.0 } else { 0.0 };
        let x: Vec<f32> = random_values(&mut rng, shape.iter().product())
            .into_iter()
            .map(|v| v * 3.0 + offset)
            .collect();
        check_layernorm(shape, axis, &x, index % 2 == 0, index as u64);
    }
}

#[test]
fn layernorm_constant_and_single_element_rows() {
    if gpu().is_none() {
        return;
    }
    let constant: Vec<f32> = (0..4 * 33).map(|i| 0.1 * (i / 33) as f32 - 0.2).collect();
    check_layernorm(&[4, 33], -1, &constant, true, 7);
    let long_constant = vec![0.3f32; 2 * 4097];
    check_layernorm(&[2, 4097], -1, &long_constant, true, 8);
    let mut rng = SeededRng::new(9);
    let single = rng.uniform_vec(6, -5.0, 5.0);
    check_layernorm(&[6, 1], -1, &single, true, 9);
    check_layernorm(&[2, 3, 1], 2, &single, false, 10);
}

#[test]
fn layernorm_rejects_bad_axes_and_parameter_shapes() {
    let Some(gpu) = gpu() else { return };
    let x = GpuTensor::upload(gpu, &[2, 3, 4], &[1.0f32; 24]).unwrap();
    let scale = GpuTensor::upload(gpu, &[4], &[1.0f32; 4]).unwrap();
    let leading_one = GpuTensor::upload(gpu, &[1, 4], &[1.0f32; 4]).unwrap();
    let wrong = GpuTensor::upload(gpu, &[3, 4], &[1.0f32; 12]).unwrap();
    let options = |axis| LayerNormOptions {
        axis,
        ..LayerNormOptions::default()
    };
    assert!(layer_normalization(gpu, &x, &leading_one, None, &options(-1)).is_ok());
    for axis in [3, -4] {
        let result = layer_normalization(gpu, &x, &scale, None, &options(axis));
        assert!(
            matches!(result, Err(Error::InvalidArgument { .. })),
            "axis {axis}"
        );
    }
    let result = layer_normalization(gpu, &x, &wrong, None, &options(-1));
    assert!(matches!(result, Err(Error::ShapeMismatch { .. })));
    let result = layer_normalization(gpu, &x, &scale, Some(&wrong), &options(-1));
    assert!(matches!(result, Err(Error::ShapeMismatch { .. })));
    let result = layer_normalization(gpu, &x, &scale, None, &options(1));
    assert!(matches!(result, Err(Error::ShapeMismatch { .. })));
}
