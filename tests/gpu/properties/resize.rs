//! Resize properties: random NCHW inputs, every mode × coordinate mode, random scales (up, down,
//! non-integer, different per axis) or sizes (1×1 included); Nearest exact (NaN and ±inf mixed
//! in), Linear within `LINEAR_TOLERANCE` on finite data in [-1, 1] as the fixed tests derive it.

use proptest::prelude::*;

use kiln::check::compare;
use kiln::ops::resize::{
    reference_resize, resize, ResizeMode, ResizeOptions, ResizeTarget, LINEAR_TOLERANCE,
};
use kiln::tensor::GpuTensor;

use super::{check, dim, ok, passed, values};
use crate::common::gpu;
use crate::resize::{COORDINATES, MODES};

fn targets() -> impl Strategy<Value = ResizeTarget> {
    prop_oneof![
        [0.3f32..3.0, 0.3f32..3.0].prop_map(ResizeTarget::Scales),
        [1usize..=12, 1usize..=12].prop_map(ResizeTarget::Sizes),
    ]
}

#[test]
fn resize_matches_reference_on_random_targets() {
    let Some(gpu) = gpu() else { return };
    let geometry = (dim(2), dim(3), 1usize..=9, 1usize..=9);
    let strategy = (geometry, 0..MODES.len(), 0..COORDINATES.len(), targets())
        .prop_filter(
            "scales leave at least one pixel",
            |((_, _, h, w), _, _, target)| match target {
                ResizeTarget::Scales([sh, sw]) => *h as f32 * sh >= 1.0 && *w as f32 * sw >= 1.0,
                ResizeTarget::Sizes(_) => true,
            },
        )
        .prop_flat_map(|((n, c, h, w), mode, coordinates, target)| {
            let options = ResizeOptions {
                mode: MODES[mode],
                coordinates: COORDINATES[coordinates],
                target,
            };
            (
                Just([n, c, h, w]),
                Just(options),
                values(n * c * h * w, 1.0),
            )
        });
    check("resize", strategy, |(shape, options, mut input)| {
        let tolerance = match options.mode {
            ResizeMode::Linear => LINEAR_TOLERANCE,
            ResizeMode::Nearest(_) => 0.0,
        };
        if options.mode == ResizeMode::Linear {
            // LINEAR_TOLERANCE is absolute for inputs in [-1, 1].
            input
                .iter_mut()
                .filter(|v| !v.is_finite())
                .for_each(|v| *v = 0.5);
        }
        let (out_shape, want) = ok("reference", reference_resize(&input, shape, &options))?;
        let tensor = ok("upload", GpuTensor::upload(gpu, &shape, &input))?;
        let output = ok("resize", resize(gpu, &tensor, &options))?;
        prop_assert_eq!(output.shape(), &out_shape[..]);
        let got = ok("read", output.read::<f32>(gpu))?;
        let label = format!("resize {shape:?} {options:?}");
        passed(compare(&label, &got, &want, &vec![tolerance; want.len()]))
    });
}
