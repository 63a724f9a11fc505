//! Convolutions whose weight stays packed (int8 per channel, int4, block-sparse, N:M), run by the
//! im2col path (`conv2d_im2col` around each layout's weight kernel), and int8 and int4 weights of
//! any group count run by the implicit GEMM's loaders (`conv2d_w8`, `conv2d_w4`), against the f64 reference
//! convolution with the weight dequantized. The im2col and the copy back to NCHW move values
//! without arithmetic, and every layout's kernel multiplies by exactly its dequantized weights, so
//! the tolerance is the f32-accumulation bound for K = C·kH·kW terms that
//! `MatmulReference::tolerances` derives.

use std::sync::OnceLock;

use kiln::check::SeededRng;
use kiln::device::{Gpu, MIN_BINDING_BYTES};
use kiln::graph::packing::Packing;
use kiln::ops::conv::{conv2d_im2col, conv2d_w4, conv2d_w8, reference_conv2d, Conv2dParams};
use kiln::ops::matmul::int4::GpuQ4Weights;
use kiln::ops::matmul::int8::GpuQ8Weights;
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::Activation;
use kiln::runtime::gpu::packed::DeviceMatrix;
use kiln::tensor::bsr::BlockShape;
use kiln::tensor::nm_sparse::NmPattern;
use kiln::tensor::{GpuTensor, Q4GroupSize, Q4Weights, Q8Scheme, Q8Weights};
use kiln::Error;

use super::{assert_close, case, sweep, Case};
use crate::common::{gpu, random_values};

/// One packing per layout: Q8 per channel with zero points, Q4 in groups of 32, BSR 4×4 at half
/// sparsity, and 2:4.
fn layouts() -> [Packing; 4] {
    [
        Packing::Q8 {
            per_channel: true,
            scheme: Q8Scheme::Asymmetric,
            unsigned: false,
        },
        Packing::Q4 {
            group_size: Q4GroupSize::G32,
            symmetric: false,
        },
        Packing::Bsr {
            block: BlockShape::B4x4,
            sparsity: 0.5,
        },
        Packing::NmSparse {
            pattern: NmPattern::TWO_FOUR,
        },
    ]
}

/// A device like [`gpu`] whose storage bindings hold only [`MIN_BINDING_BYTES`], so that the
/// im2col runs in many slabs even on small images.
fn small_binding_gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    gpu()?;
    GPU.get_or_init(|| {
        let gpu = Gpu::from_env().expect("the default device opened once already");
        Some(gpu.with_max_binding_bytes(MIN_BINDING_BYTES))
    })
    .as_ref()
}

/// Runs `case` with its weight packed by `packing` on `gpu` and checks it against the reference.
fn check_packed(gpu: &Gpu, case: &Case, packing: &Packing, activation: Activation, seed: u64) {
    let mut rng = SeededRng::new(seed);
    let x = random_values(&mut rng, case.x_shape().iter().product());
    let (rows, k) = (case.out_channels, case.k());
    let matrix = packing
        .pack(&random_values(&mut rng, rows * k), rows, k)
        .unwrap();
    let bias = rng.uniform_vec(rows, -1.0, 1.0);
    let with_bias = seed.is_multiple_of(2);
    let device_matrix = DeviceMatrix::upload(gpu, &matrix).unwrap();
    let x_gpu = GpuTensor::upload(gpu, &case.x_shape(), &x).unwrap();
    let bias_gpu = GpuTensor::upload(gpu, &[rows], &bias).unwrap();
    let product = |patches: &GpuTensor, bias: Option<&GpuTensor>, activation: Activation| {
        device_matrix.product(gpu, patches, bias, activation)
    };
    let y = conv2d_im2col(
        gpu,
        &x_gpu,
        &case.w_shape(),
        with_bias.then_some(&bias_gpu),
        &case.params,
        activation,
        &product,
    )
    .unwrap();
    let reference = reference_conv2d(
        &x,
        &case.x_shape(),
        &matrix.to_dense_rows(),
        &case.w_shape(),
        with_bias.then_some(&bias[..]),
        &case.params,
        activation,
    )
    .unwrap();
    let want_shape = case.params.output_shape(&case.x_shape(), &case.w_shape());
    assert_eq!(y.shape(), want_shape.unwrap());
    let label = format!("packed conv {packing:?} {case:?} {activation:?} bias={with_bias}");
    assert_close(
        &label,
        &y.read::<f32>(gpu).unwrap(),
        &reference,
        OutputPrecision::F32,
    );
}

#[test]
fn every_layout_over_the_one_group_sweep() {
    let Some(gpu) = gpu() else { return };
    let activations = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu { alpha: 0.1 },
    ];
    let one_group = sweep().into_iter().filter(|case| case.params.groups == 1);
    for (index, case) in one_group.enumerate() {
        for (layout, packing) in layouts().iter().enumerate() {
            let seed = (index * 4 + layout) as u64;
            check_packed(gpu, &case, packing, activations[index % 3], seed);
        }
    }
}

#[test]
fn many_slabs_when_the_binding_is_small() {
    let Some(gpu) = small_binding_gpu() else {
        return;
    };
    // 1024-float bindings: K = 5·3·3 = 45 floats per patch row gives slabs of 22 rows, so the
    // 9·11 = 99 output pixels take five, the last one short; K = 8·3·2 = 48 (stride 2×1, dilation
    // 1×2, asymmetric pads) gives 21 rows, two slabs for 4·7 = 28 pixels. The outputs themselves
    // (2 376 and 560 bytes) fit one binding, as every convolution output must.
    let cases = [
        case((1, 5, [9, 11]), (6, [3, 3]), ([1, 1], [1; 4], [1, 1], 1)),
        case(
            (1, 8, [9, 8]),
            (5, [3, 2]),
            ([2, 1], [1, 0, 0, 1], [1, 2], 1),
        ),
    ];
    for (index, case) in cases.iter().enumerate() {
        for (layout, packing) in layouts().iter().enumerate() {
            let seed = (100 + index * 4 + layout) as u64;
            check_packed(gpu, case, packing, Activation::Relu, seed);
        }
    }
}

#[test]
fn grouped_convolutions_and_oversized_rows_are_errors() {
    let Some(gpu) = gpu() else { return };
    let never = |_: &GpuTensor, _: Option<&GpuTensor>, _: Activation| -> kiln::Result<GpuTensor> {
        panic!("the product must not run")
    };
    let x = GpuTensor::upload(gpu, &[1, 4, 5, 5], &[1.0f32; 100]).unwrap();
    let grouped = Conv2dParams {
        groups: 2,
        ..Conv2dParams::default()
    };
    let result = conv2d_im2col(
        gpu,
        &x,
        &[4, 2, 3, 3],
        None,
        &grouped,
        Activation::Identity,
        &never,
    );
    assert!(
        matches!(result, Err(Error::InvalidArgument { .. })),
        "{:?}",
        result.as_ref().err()
    );
    let small = small_binding_gpu().expect("the default device opened");
    let wide = GpuTensor::upload(small, &[1, 1100, 1, 1], &vec![1.0f32; 1100]).unwrap();
    let params = Conv2dParams::default();
    let result = conv2d_im2col(
        small,
        &wide,
        &[2, 1100, 1, 1],
        None,
        &params,
        Activation::Identity,
        &never,
    );
    assert!(
        matches!(result, Err(Error::LimitExceeded { .. })),
        "{:?}",
        result.as_ref().err()
    );
}

/// A weight quantized in place: the device weights, run by the implicit GEMM's loader.
enum InPlace {
    Int8(GpuQ8Weights),
    Int4(GpuQ4Weights),
}

/// Runs `case` with its weight quantized (`weights` on the device, `dequantized` its values) on
/// the implicit GEMM's int8 or int4 loader and checks it against the reference.
fn check_in_place(
    case: &Case,
    weights: &InPlace,
    dequantized: &[f32],
    activation: Activation,
    seed: u64,
) {
    let gpu = gpu().expect("checked by caller");
    let mut rng = SeededRng::new(seed);
    let x = random_values(&mut rng, case.x_shape().iter().product());
    let bias = rng.uniform_vec(case.out_channels, -1.0, 1.0);
    let with_bias = seed.is_multiple_of(2);
    let x_gpu = GpuTensor::upload(gpu, &case.x_shape(), &x).unwrap();
    let bias_gpu = GpuTensor::upload(gpu, &[case.out_channels], &bias).unwrap();
    let (params, w_shape) = (&case.params, &case.w_shape());
    let bias_arg = with_bias.then_some(&bias_gpu);
    let y = match weights {
        InPlace::Int8(w) => conv2d_w8(gpu, &x_gpu, w, w_shape, bias_arg, params, activation),
        InPlace::Int4(w) => conv2d_w4(gpu, &x_gpu, w, w_shape, bias_arg, params, activation),
    };
    let reference = reference_conv2d(
        &x,
        &case.x_shape(),
        dequantized,
        w_shape,
        with_bias.then_some(&bias[..]),
        params,
        activation,
    )
    .unwrap();
    let kind = match weights {
        InPlace::Int8(_) => "w8",
        InPlace::Int4(_) => "w4",
    };
    let label = format!("{kind} conv {case:?} {activation:?} bias={with_bias}");
    assert_close(
        &label,
        &y.unwrap().read::<f32>(gpu).unwrap(),
        &reference,
        OutputPrecision::F32,
    );
}

#[test]
fn int8_weights_in_place_over_the_whole_sweep_with_groups() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(21);
    for (index, case) in sweep().iter().enumerate() {
        let (rows, k) = (case.out_channels, case.k());
        let values = random_values(&mut rng, rows * k);
        // Asymmetric rows have zero points; every other case moves levels and zero points 128
        // down (saturating), the range uint8 weights take once kiln shifts them by −128.
        let mut weights = Q8Weights::quantize(&values, rows, k, Q8Scheme::Asymmetric).unwrap();
        if index % 2 == 1 {
            let levels: Vec<i8> = (0..rows * k)
                .map(|i| {
                    weights
                        .value(i / k, i % k)
                        .saturating_sub(i8::MAX)
                        .saturating_sub(1)
                })
                .collect();
            let zero_points = (weights.zero_points.iter())
                .map(|&z| z.saturating_sub(i8::MAX).saturating_sub(1))
                .collect();
            let scales = weights.scales.clone();
            weights = Q8Weights::from_parts(rows, k, &levels, scales, zero_points).unwrap();
        }
        let activation = [Activation::Relu, Activation::Identity][index % 2];
        let device = InPlace::Int8(GpuQ8Weights::upload(gpu().unwrap(), &weights).unwrap());
        check_in_place(
            case,
            &device,
            &weights.dequantize(),
            activation,
            index as u64,
        );
    }
}

#[test]
fn int4_weights_in_place_over_the_whole_sweep_with_groups() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(22);
    let group_sizes = [Q4GroupSize::G32, Q4GroupSize::G64, Q4GroupSize::G128];
    for (index, case) in sweep().iter().enumerate() {
        let (rows, k) = (case.out_channels, case.k());
        let values = random_values(&mut rng, rows * k);
        let group_size = group_sizes[index % 3];
        let weights = Q4Weights::quantize(&values, rows, k, group_size, index % 2 == 0).unwrap();
        let device = InPlace::Int4(GpuQ4Weights::upload(gpu, &weights).unwrap());
        let activation = [Activation::Identity, Activation::Relu][index % 2];
        check_in_place(
            case,
            &device,
            &weights.dequantize(),
            activation,
            50 + index as u64,
        );
    }
}

#[test]
fn int8_weights_of_the_wrong_shape_are_errors() {
    let Some(gpu) = gpu() else { return };
    let weights = Q8Weights::quantize(&[0.5f32; 4 * 18], 4, 18, Q8Scheme::Symmetric).unwrap();
    let w = GpuQ8Weights::upload(gpu, &weights).unwrap();
    let x = GpuTensor::upload(gpu, &[1, 2, 5, 5], &[1.0f32; 50]).unwrap();
    let params = Conv2dParams::default();
    let fits = conv2d_w8(
        gpu,
        &x,
        &w,
        &[4, 2, 3, 3],
        None,
        &params,
        Activation::Identity,
    );
    assert_eq!(fits.unwrap().shape(), [1, 4, 3, 3]);
    let wrong = conv2d_w8(
        gpu,
        &x,
        &w,
        &[4, 2, 3, 2],
        None,
        &params,
        Activation::Identity,
    );
    assert!(
        matches!(wrong, Err(Error::ShapeMismatch { .. })),
        "{:?}",
        wrong.err()
    );
}
