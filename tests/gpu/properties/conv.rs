//! Conv2d f32 properties: random batch, channels, plane size, kernel, strides, asymmetric pads,
//! dilations and groups (1, depthwise, or a divisor), bias and activation, through the automatic
//! path choice, within the K-derived matmul tolerance the fixed sweep uses.

use proptest::prelude::*;

use kiln::check::{compare, SeededRng};
use kiln::ops::conv::{conv2d_f32_with_path, reference_conv2d, Conv2dParams, ConvPath};
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::Activation;
use kiln::tensor::GpuTensor;

use super::{check, ok, passed};
use crate::common::{gpu, random_values};

/// One convolution: x `[batch, channels, h, w]`, weights `[out, channels / groups, kh, kw]`.
#[derive(Clone, Debug)]
struct Problem {
    x_shape: Vec<usize>,
    w_shape: Vec<usize>,
    params: Conv2dParams,
}

fn problems() -> impl Strategy<Value = Problem> {
    let geometry = (1usize..=2, 1usize..=4, 1usize..=3, [1usize..=5, 1usize..=5]);
    let window = (
        [1usize..=3, 1usize..=3],
        [0usize..=2, 0usize..=2, 0usize..=2, 0usize..=2],
    );
    let spacing = ([1usize..=2, 1usize..=2], 0usize..3);
    (geometry, window, spacing).prop_flat_map(
        |((batch, group_channels, group_out, kernel), (strides, pads), (dilations, grouping))| {
            let groups = [1, 2, 3][grouping];
            let channels = group_channels * groups;
            let out_channels = group_out * groups;
            let extent = |axis: usize| (kernel[axis] - 1) * dilations[axis] + 1;
            let low = |axis: usize| {
                extent(axis)
                    .saturating_sub(pads[axis] + pads[axis + 2])
                    .max(1)
            };
            [low(0)..=low(0) + 12, low(1)..=low(1) + 12].prop_map(move |size| Problem {
                x_shape: vec![batch, channels, size[0], size[1]],
                w_shape: vec![out_channels, group_channels, kernel[0], kernel[1]],
                params: Conv2dParams {
                    strides,
                    pads,
                    dilations,
                    groups,
                },
            })
        },
    )
}

#[test]
fn conv2d_f32_matches_reference_on_random_geometry() {
    let Some(gpu) = gpu() else { return };
    let strategy = (problems(), any::<bool>(), any::<bool>(), any::<u64>());
    check(
        "conv2d f32",
        strategy,
        |(problem, with_bias, relu, seed)| {
            let Problem {
                x_shape,
                w_shape,
                params,
            } = &problem;
            let mut rng = SeededRng::new(seed);
            let x = random_values(&mut rng, x_shape.iter().product());
            let w = random_values(&mut rng, w_shape.iter().product());
            let bias = rng.uniform_vec(w_shape[0], -1.0, 1.0);
            let activation = if relu {
                Activation::Relu
            } else {
                Activation::Identity
            };
            let x_gpu = ok("upload x", GpuTensor::upload(gpu, x_shape, &x))?;
            let w_gpu = ok("upload w", GpuTensor::upload(gpu, w_shape, &w))?;
            let bias_gpu = ok("upload bias", GpuTensor::upload(gpu, &[w_shape[0]], &bias))?;
            let bias_arg = with_bias.then_some(&bias_gpu);
            let y = conv2d_f32_with_path(
                gpu,
                &x_gpu,
                &w_gpu,
                bias_arg,
                params,
                activation,
                ConvPath::Auto,
            );
            let y = ok("conv", y)?;
            let bias_ref = with_bias.then_some(&bias[..]);
            let reference =
                reference_conv2d(&x, x_shape, &w, w_shape, bias_ref, params, activation);
            let reference = ok("reference", reference)?;
            let got = ok("read", y.read::<f32>(gpu))?;
            let label = format!("conv f32 {problem:?} {activation:?} bias={with_bias}");
            let tolerances = reference.tolerances(OutputPrecision::F32);
            passed(compare(&label, &got, &reference.values(), &tolerances))
        },
    );
}
