//! Resize against its per-pixel f64 reference: every mode × coordinate mode, upsampling and
//! downsampling, non-integer scales, sizes given, and a 1×1 output.

use kiln::check::{compare, SeededRng};
use kiln::ops::resize::{
    reference_resize, resize, CoordinateMode, NearestMode, ResizeMode, ResizeOptions, ResizeTarget,
    LINEAR_TOLERANCE,
};
use kiln::tensor::GpuTensor;
use kiln::Error;

use crate::common::{gpu, random_values};

/// Every Resize mode (the property tests draw from it too).
pub(crate) const MODES: [ResizeMode; 5] = [
    ResizeMode::Nearest(NearestMode::RoundPreferFloor),
    ResizeMode::Nearest(NearestMode::RoundPreferCeil),
    ResizeMode::Nearest(NearestMode::Floor),
    ResizeMode::Nearest(NearestMode::Ceil),
    ResizeMode::Linear,
];

/// Every coordinate transformation mode (the property tests draw from it too).
pub(crate) const COORDINATES: [CoordinateMode; 6] = [
    CoordinateMode::HalfPixel,
    CoordinateMode::HalfPixelSymmetric,
    CoordinateMode::PytorchHalfPixel,
    CoordinateMode::AlignCorners,
    CoordinateMode::Asymmetric,
    CoordinateMode::TfHalfPixelForNn,
];

/// Input shapes and targets: 2× up, down by 0.5, non-integer scales each way, sizes, 1×1 out.
fn targets() -> Vec<([usize; 4], ResizeTarget)> {
    vec![
        ([1, 2, 5, 7], ResizeTarget::Scales([2.0, 2.0])),
        ([1, 1, 8, 9], ResizeTarget::Scales([0.5, 0.5])),
        ([2, 1, 5, 6], ResizeTarget::Scales([1.7, 0.6])),
        ([1, 1, 7, 4], ResizeTarget::Scales([0.75, 2.5])),
        ([1, 2, 6, 5], ResizeTarget::Sizes([9, 3])),
        ([1, 1, 5, 3], ResizeTarget::Sizes([1, 1])),
    ]
}

#[test]
fn every_mode_and_coordinate_mode_matches_reference() {
    let Some(gpu) = gpu() else { return };
    for (index, (shape, target)) in targets().into_iter().enumerate() {
        let input = random_values(&mut SeededRng::new(index as u64), shape.iter().product());
        let tensor = GpuTensor::upload(gpu, &shape, &input).unwrap();
        for mode in MODES {
            for coordinates in COORDINATES {
                let options = ResizeOptions {
                    mode,
                    coordinates,
                    target,
                };
                let (out_shape, want) = reference_resize(&input, shape, &options).unwrap();
                let output = resize(gpu, &tensor, &options).unwrap();
                assert_eq!(output.shape(), out_shape);
                // Inputs are in [-1, 1): the linear bound is absolute. Nearest copies exactly.
                let tolerance = match mode {
                    ResizeMode::Linear => LINEAR_TOLERANCE,
                    ResizeMode::Nearest(_) => 0.0,
                };
                let label = format!("resize {shape:?} {options:?}");
                compare(
                    &label,
                    &output.read::<f32>(gpu).unwrap(),
                    &want,
                    &vec![tolerance; want.len()],
                )
                .assert_passed();
            }
        }
    }
}

#[test]
fn onnx_examples() {
    let Some(gpu) = gpu() else { return };
    // resize_upsample_scales_nearest: [[1, 2], [3, 4]] by (2, 3).
    let tensor = GpuTensor::upload(gpu, &[1, 1, 2, 2], &[1.0f32, 2.0, 3.0, 4.0]).unwrap();
    let got = resize(gpu, &tensor, &ResizeOptions::scales(2.0, 3.0))
        .unwrap()
        .read::<f32>(gpu)
        .unwrap();
    let row = |a: f32, b: f32| [a, a, a, b, b, b];
    let want: Vec<f32> = [row(1.0, 2.0), row(1.0, 2.0), row(3.0, 4.0), row(3.0, 4.0)].concat();
    assert_eq!(got, want);
    // Downsampling [[1..4], [5..8]] by 0.6 with align_corners: the spec's length_resized is the
    // output's integer length (1 × 2), so columns read x = 0 and x = 1 · 3 / 1 = 3: [1, 4]. (ONNX's
    // Python reference uses the unrounded 2.4 there and gets 3.142857; we follow the spec text,
    // as ONNX Runtime does.)
    let values: Vec<f32> = (1..=8).map(|v| v as f32).collect();
    let tensor = GpuTensor::upload(gpu, &[1, 1, 2, 4], &values).unwrap();
    let options = ResizeOptions {
        mode: ResizeMode::Linear,
        coordinates: CoordinateMode::AlignCorners,
        target: ResizeTarget::Scales([0.6, 0.6]),
    };
    let output = resize(gpu, &tensor, &options).unwrap();
    assert_eq!(output.shape(), [1, 1, 1, 2]);
    assert_eq!(output.read::<f32>(gpu).unwrap(), [1.0, 4.0]);
}

#[test]
fn bad_arguments_are_errors() {
    let Some(gpu) = gpu() else { return };
    let tensor = GpuTensor::upload(gpu, &[1, 1, 2, 2], &[0.0f32; 4]).unwrap();
    let invalid = |options: ResizeOptions| {
        matches!(
            resize(gpu, &tensor, &options),
            Err(Error::InvalidArgument { .. })
        )
    };
    assert!(invalid(ResizeOptions::scales(0.0, 1.0)));
    assert!(invalid(ResizeOptions::scales(0.25, 1.0)));
    assert!(invalid(ResizeOptions::scales(f32::NAN, 1.0)));
    assert!(invalid(ResizeOptions::sizes(2, 0)));
    let flat = GpuTensor::upload(gpu, &[2, 2], &[0.0f32; 4]).unwrap();
    assert!(matches!(
        resize(gpu, &flat, &ResizeOptions::scales(2.0, 2.0)),
        Err(Error::ShapeMismatch { .. })
    ));
    let ints = GpuTensor::upload(gpu, &[1, 1, 2, 2], &[0i32; 4]).unwrap();
    assert!(matches!(
        resize(gpu, &ints, &ResizeOptions::scales(2.0, 2.0)),
        Err(Error::DTypeMismatch { .. })
    ));
}
