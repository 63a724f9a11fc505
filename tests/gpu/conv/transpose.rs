//! ConvTranspose2d against its reference.

use kiln::check::SeededRng;
use kiln::ops::conv::{conv_transpose2d_f32, reference_conv_transpose2d, ConvTranspose2dParams};
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::Activation;
use kiln::tensor::GpuTensor;

use super::assert_close;
use crate::common::{gpu, random_values};

fn check_transpose(
    x_shape: [usize; 4],
    w_shape: [usize; 4],
    params: ConvTranspose2dParams,
    seed: u64,
) {
    let gpu = gpu().expect("checked by caller");
    let mut rng = SeededRng::new(seed);
    let x = random_values(&mut rng, x_shape.iter().product());
    let w = random_values(&mut rng, w_shape.iter().product());
    let out_channels = w_shape[1] * params.groups;
    let bias = rng.uniform_vec(out_channels, -1.0, 1.0);
    let activation = Activation::ALL[seed as usize % Activation::ALL.len()];
    let x_gpu = GpuTensor::upload(gpu, &x_shape, &x).unwrap();
    let w_gpu = GpuTensor::upload(gpu, &w_shape, &w).unwrap();
    let bias_gpu = GpuTensor::upload(gpu, &[out_channels], &bias).unwrap();
    let y =
        conv_transpose2d_f32(gpu, &x_gpu, &w_gpu, Some(&bias_gpu), &params, activation).unwrap();
    assert_eq!(y.shape(), params.output_shape(&x_shape, &w_shape).unwrap());
    let reference =
        reference_conv_transpose2d(&x, &x_shape, &w, &w_shape, Some(&bias), &params, activation)
            .unwrap();
    let label = format!("conv_transpose {x_shape:?} {w_shape:?} {params:?}");
    assert_close(
        &label,
        &y.read::<f32>(gpu).unwrap(),
        &reference,
        OutputPrecision::F32,
    );
}

#[test]
fn conv_transpose_matches_reference() {
    if gpu().is_none() {
        return;
    }
    let with = |strides, pads, output_padding, dilations, groups| ConvTranspose2dParams {
        strides,
        pads,
        output_padding,
        dilations,
        groups,
    };
    check_transpose(
        [1, 4, 5, 5],
        [4, 3, 3, 3],
        with([2, 2], [1; 4], [1, 1], [1, 1], 1),
        400,
    );
    check_transpose(
        [3, 4, 4, 6],
        [4, 2, 2, 3],
        with([2, 3], [0, 1, 1, 0], [1, 0], [1, 2], 2),
        401,
    );
    check_transpose(
        [1, 8, 7, 5],
        [8, 1, 4, 4],
        with([2, 2], [1; 4], [0, 0], [1, 1], 8),
        402,
    );
    check_transpose(
        [1, 3, 3, 3],
        [3, 5, 5, 5],
        with([1, 1], [0; 4], [0, 0], [2, 2], 1),
        403,
    );
    check_transpose(
        [1, 2, 9, 11],
        [2, 6, 1, 1],
        with([1, 1], [0; 4], [0, 0], [1, 1], 1),
        404,
    );
}
