//! Convolutions against their references: f32 (implicit GEMM, depthwise, 1×1), f16 (both paths
//! where the device allows), int8 QLinearConv (exact, both dot4 paths) and ConvTranspose, over a
//! sweep where every kernel size, stride, padding, dilation, group count and batch appears.

use half::f16;
use kiln::check::{compare, SeededRng};
use kiln::ops::conv::{
    conv2d_f16_with_path, conv2d_f32_with_path, reference_conv2d, reference_conv2d_f16,
    Conv2dParams, ConvPath,
};
use kiln::ops::matmul::f16::F16Path;
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::matmul::MatmulReference;
use kiln::ops::Activation;
use kiln::tensor::GpuTensor;

use crate::common::{gpu, random_values};

mod depthwise_q8;
mod errors;
mod int8;
mod packed;
mod transpose;

/// One convolution problem: input `[batch, channels, height, width]`, `out_channels` outputs.
#[derive(Clone, Copy, Debug)]
struct Case {
    batch: usize,
    channels: usize,
    size: [usize; 2],
    out_channels: usize,
    kernel: [usize; 2],
    params: Conv2dParams,
}

impl Case {
    fn x_shape(&self) -> Vec<usize> {
        vec![self.batch, self.channels, self.size[0], self.size[1]]
    }

    fn w_shape(&self) -> Vec<usize> {
        let per_group = self.channels / self.params.groups;
        vec![self.out_channels, per_group, self.kernel[0], self.kernel[1]]
    }

    fn k(&self) -> usize {
        self.channels / self.params.groups * self.kernel[0] * self.kernel[1]
    }
}

const fn case(
    (batch, channels, size): (usize, usize, [usize; 2]),
    (out_channels, kernel): (usize, [usize; 2]),
    (strides, pads, dilations, groups): ([usize; 2], [usize; 4], [usize; 2], usize),
) -> Case {
    Case {
        batch,
        channels,
        size,
        out_channels,
        kernel,
        params: Conv2dParams {
            strides,
            pads,
            dilations,
            groups,
        },
    }
}

/// Kernels 1/3/5/7 (and non-square), strides 1/2, pads 0/1/asymmetric, dilations 1/2, groups
/// 1/C/C÷4, batches 1/3, odd sizes, more than one 64-row tile and K beyond one 16-deep tile.
fn sweep() -> Vec<Case> {
    vec![
        case((1, 3, [7, 9]), (5, [3, 3]), ([1, 1], [1; 4], [1, 1], 1)),
        case(
            (3, 4, [11, 13]),
            (8, [3, 3]),
            ([2, 2], [0, 1, 2, 1], [1, 1], 1),
        ),
        case((1, 8, [13, 13]), (8, [5, 5]), ([1, 1], [2; 4], [1, 1], 2)),
        case((1, 8, [9, 9]), (8, [3, 3]), ([1, 1], [1; 4], [2, 2], 8)),
        case((3, 2, [13, 11]), (3, [7, 7]), ([2, 2], [3; 4], [1, 1], 1)),
        case((1, 4, [6, 5]), (4, [1, 1]), ([1, 1], [0; 4], [1, 1], 1)),
        case(
            (3, 8, [5, 7]),
            (4, [1, 1]),
            ([2, 2], [0, 0, 1, 1], [1, 1], 2),
        ),
        case(
            (1, 6, [10, 12]),
            (6, [3, 3]),
            ([2, 2], [1, 0, 0, 1], [1, 1], 6),
        ),
        case((1, 4, [12, 11]), (8, [5, 5]), ([1, 1], [0; 4], [2, 2], 1)),
        case((3, 8, [7, 7]), (4, [3, 3]), ([1, 1], [0; 4], [1, 1], 2)),
        case(
            (1, 5, [9, 7]),
            (7, [3, 1]),
            ([2, 1], [1, 0, 1, 0], [1, 2], 1),
        ),
        case((1, 1, [13, 13]), (1, [7, 7]), ([1, 1], [3; 4], [1, 1], 1)),
        case((1, 8, [13, 13]), (70, [3, 3]), ([1, 1], [1; 4], [1, 1], 1)),
        case((3, 8, [4, 4]), (12, [1, 1]), ([1, 1], [0; 4], [1, 1], 4)),
    ]
}

fn assert_close(label: &str, got: &[f32], reference: &MatmulReference, precision: OutputPrecision) {
    compare(
        label,
        got,
        &reference.values(),
        &reference.tolerances(precision),
    )
    .assert_passed();
}

fn check_f32(case: &Case, activation: Activation, with_bias: bool, path: ConvPath, seed: u64) {
    let gpu = gpu().expect("checked by caller");
    let mut rng = SeededRng::new(seed);
    let x = random_values(&mut rng, case.x_shape().iter().product());
    let w = random_values(&mut rng, case.w_shape().iter().product());
    let bias = rng.uniform_vec(case.out_channels, -1.0, 1.0);
    let bias_arg = with_bias.then_some(&bias[..]);
    let x_gpu = GpuTensor::upload(gpu, &case.x_shape(), &x).unwrap();
    let w_gpu = GpuTensor::upload(gpu, &case.w_shape(), &w).unwrap();
    let bias_gpu = GpuTensor::upload(gpu, &[case.out_channels], &bias).unwrap();
    let params = &case.params;
    let y = conv2d_f32_with_path(
        gpu,
        &x_gpu,
        &w_gpu,
        with_bias.then_some(&bias_gpu),
        params,
        activation,
        path,
    )
    .unwrap();
    let reference = reference_conv2d(
        &x,
        &case.x_shape(),
        &w,
        &case.w_shape(),
        bias_arg,
        params,
        activation,
    )
    .unwrap();
    assert_eq!(
        y.shape(),
        params
            .output_shape(&case.x_shape(), &case.w_shape())
            .unwrap()
    );
    let label = format!("conv f32 {path:?} {case:?} {activation:?} bias={with_bias}");
    assert_close(
        &label,
        &y.read::<f32>(gpu).unwrap(),
        &reference,
        OutputPrecision::F32,
    );
}

#[test]
fn f32_matches_reference_over_the_sweep() {
    if gpu().is_none() {
        return;
    }
    for (index, case) in sweep().iter().enumerate() {
        check_f32(
            case,
            Activation::Identity,
            index % 2 == 0,
            ConvPath::Auto,
            index as u64,
        );
        let dims = case.params.dims(&case.x_shape(), &case.w_shape()).unwrap();
        if kiln::ops::conv::f32::depthwise_fits(&dims) {
            check_f32(
                case,
                Activation::Relu,
                true,
                ConvPath::ImplicitGemm,
                index as u64,
            );
        }
    }
}

#[test]
fn depthwise_kernel_and_implicit_gemm_agree_with_the_reference() {
    if gpu().is_none() {
        return;
    }
    let depthwise = [
        case((3, 8, [13, 11]), (8, [3, 3]), ([1, 1], [1; 4], [1, 1], 8)),
        case(
            (1, 5, [12, 13]),
            (5, [5, 5]),
            ([2, 2], [2, 1, 0, 2], [1, 1], 5),
        ),
        case((1, 3, [13, 13]), (3, [7, 7]), ([1, 1], [3; 4], [2, 1], 3)),
        case((1, 2, [70, 9]), (2, [3, 3]), ([1, 1], [1; 4], [1, 1], 2)),
        case((1, 2, [5, 130]), (2, [3, 3]), ([1, 2], [1; 4], [1, 1], 2)),
    ];
    for (index, case) in depthwise.iter().enumerate() {
        let seed = 50 + index as u64;
        check_f32(
            case,
            Activation::Identity,
            index % 2 == 1,
            ConvPath::Depthwise,
            seed,
        );
        check_f32(
            case,
            Activation::Identity,
            index % 2 == 1,
            ConvPath::ImplicitGemm,
            seed,
        );
    }
}

#[test]
fn every_activation_fused_with_bias() {
    if gpu().is_none() {
        return;
    }
    let gemm = case((1, 4, [7, 6]), (6, [3, 3]), ([1, 1], [1; 4], [1, 1], 2));
    let depthwise = case((1, 4, [7, 6]), (4, [3, 3]), ([1, 1], [1; 4], [1, 1], 4));
    for (index, activation) in Activation::ALL.into_iter().enumerate() {
        let seed = 100 + index as u64;
        check_f32(&gemm, activation, true, ConvPath::Auto, seed);
        check_f32(&depthwise, activation, true, ConvPath::Auto, seed);
    }
}

#[test]
fn f16_matches_reference_on_both_paths() {
    let Some(gpu) = gpu() else { return };
    let mut paths = vec![F16Path::Packed];
    if gpu.capabilities().shader_f16 {
        paths.push(F16Path::Native);
    }
    let to_f16 = |values: Vec<f32>| values.into_iter().map(f16::from_f32).collect::<Vec<_>>();
    for (index, case) in sweep().iter().enumerate() {
        let mut rng = SeededRng::new(200 + index as u64);
        let x = to_f16(random_values(&mut rng, case.x_shape().iter().product()));
        let w = to_f16(random_values(&mut rng, case.w_shape().iter().product()));
        let bias = rng.uniform_vec(case.out_channels, -1.0, 1.0);
        let activation = Activation::ALL[index % Activation::ALL.len()];
        let x_gpu = GpuTensor::upload(gpu, &case.x_shape(), &x).unwrap();
        let w_gpu = GpuTensor::upload(gpu, &case.w_shape(), &w).unwrap();
        let bias_gpu = GpuTensor::upload(gpu, &[case.out_channels], &bias).unwrap();
        let params = &case.params;
        let reference = reference_conv2d_f16(
            &x,
            &case.x_shape(),
            &w,
            &case.w_shape(),
            Some(&bias),
            params,
            activation,
        )
        .unwrap();
        for &path in &paths {
            let y = conv2d_f16_with_path(
                gpu,
                &x_gpu,
                &w_gpu,
                Some(&bias_gpu),
                params,
                activation,
                path,
            )
            .unwrap();
            let got: Vec<f32> = y
                .read::<f16>(gpu)
                .unwrap()
                .iter()
                .map(|v| v.to_f32())
                .collect();
            let label = format!("conv f16 {path:?} {case:?} {activation:?}");
            assert_close(&label, &got, &reference, OutputPrecision::F16);
        }
    }
}
