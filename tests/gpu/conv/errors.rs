//! Bad shapes and arguments are errors with the right variant, never panics.

use half::f16;
use kiln::ops::conv::{
    conv2d_f32_with_path, conv2d_q8, conv_transpose2d_f32, Conv2dParams, ConvPath,
    ConvTranspose2dParams, GpuQ8ConvWeights, QLinearQuant,
};
use kiln::ops::matmul::int8::Dot4Path;
use kiln::ops::Activation;
use kiln::tensor::{GpuTensor, Q8Weights};
use kiln::Error;

use crate::common::gpu;

/// The error a call returned, for matching on its variant.
fn error_of<T>(result: Result<T, Error>) -> Error {
    result.err().expect("the call should have failed")
}

#[test]
fn bad_shapes_and_arguments_are_errors() {
    let Some(gpu) = gpu() else { return };
    let upload = |shape: &[usize]| {
        GpuTensor::upload(gpu, shape, &vec![0.5f32; shape.iter().product()]).unwrap()
    };
    let (x, w) = (upload(&[1, 4, 5, 5]), upload(&[6, 4, 3, 3]));
    let plain = Conv2dParams::default();
    let run =
        |x: &GpuTensor, w: &GpuTensor, bias: Option<&GpuTensor>, params: &Conv2dParams, path| {
            conv2d_f32_with_path(gpu, x, w, bias, params, Activation::Identity, path)
        };
    let auto = ConvPath::Auto;
    assert!(run(&x, &w, None, &plain, auto).is_ok());
    let rank3 = upload(&[4, 5, 5]);
    assert!(matches!(
        error_of(run(&rank3, &w, None, &plain, auto)),
        Error::ShapeMismatch { .. }
    ));
    let wrong_channels = upload(&[6, 3, 3, 3]);
    assert!(matches!(
        error_of(run(&x, &wrong_channels, None, &plain, auto)),
        Error::ShapeMismatch { .. }
    ));
    let three_groups = Conv2dParams { groups: 3, ..plain };
    let w_g3 = upload(&[6, 1, 3, 3]);
    assert!(matches!(
        error_of(run(&x, &w_g3, None, &three_groups, auto)),
        Error::InvalidArgument { .. }
    ));
    let too_big = upload(&[6, 4, 7, 3]);
    assert!(matches!(
        error_of(run(&x, &too_big, None, &plain, auto)),
        Error::InvalidArgument { .. }
    ));
    let short_bias = upload(&[5]);
    assert!(matches!(
        error_of(run(&x, &w, Some(&short_bias), &plain, auto)),
        Error::ShapeMismatch { .. }
    ));
    let depthwise_path = ConvPath::Depthwise;
    assert!(matches!(
        error_of(run(&x, &w, None, &plain, depthwise_path)),
        Error::InvalidArgument { .. }
    ));
    let x16 = GpuTensor::upload(gpu, &[1, 4, 5, 5], &[f16::ONE; 100]).unwrap();
    assert!(matches!(
        error_of(run(&x16, &w, None, &plain, auto)),
        Error::DTypeMismatch { .. }
    ));
    let transpose = ConvTranspose2dParams {
        output_padding: [1, 0],
        ..ConvTranspose2dParams::default()
    };
    let w_t = upload(&[4, 2, 3, 3]);
    let result = conv_transpose2d_f32(gpu, &x, &w_t, None, &transpose, Activation::Identity);
    assert!(matches!(error_of(result), Error::InvalidArgument { .. }));
    let asymmetric = Q8Weights::from_parts(2, 4, &[1; 8], vec![0.1; 2], vec![0, 3]).unwrap();
    let upload_q8 = GpuQ8ConvWeights::upload(gpu, &asymmetric, [2, 4, 1, 1]);
    assert!(matches!(error_of(upload_q8), Error::InvalidArgument { .. }));
    let symmetric = Q8Weights::from_parts(2, 4, &[1; 8], vec![0.1; 2], vec![0; 2]).unwrap();
    let upload_q8 = GpuQ8ConvWeights::upload(gpu, &symmetric, [2, 2, 1, 1]);
    assert!(matches!(error_of(upload_q8), Error::ShapeMismatch { .. }));
    let w_q8 = GpuQ8ConvWeights::upload(gpu, &symmetric, [2, 4, 1, 1]).unwrap();
    let x_q8 = GpuTensor::upload(gpu, &[1, 4, 5, 5], &[1i8; 100]).unwrap();
    let quant = QLinearQuant {
        input_scale: 0.1,
        input_zero_point: 0,
        output_scale: 0.1,
        output_zero_point: 0,
    };
    let f32_bias = upload(&[2]);
    let result = conv2d_q8(
        gpu,
        &x_q8,
        &w_q8,
        Some(&f32_bias),
        &quant,
        &plain,
        Dot4Path::Unpacked,
    );
    assert!(matches!(error_of(result), Error::DTypeMismatch { .. }));
    let bad_scale = QLinearQuant {
        output_scale: 0.0,
        ..quant
    };
    let result = conv2d_q8(
        gpu,
        &x_q8,
        &w_q8,
        None,
        &bad_scale,
        &plain,
        Dot4Path::Unpacked,
    );
    assert!(matches!(error_of(result), Error::InvalidArgument { .. }));
}
