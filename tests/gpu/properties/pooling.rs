//! MaxPool and AveragePool properties: random planes, windows, strides, asymmetric pads,
//! dilations, ceil_mode and count_include_pad; Max exact (NaN and ±inf mixed into the data),
//! Average within `average_pool_tolerance` on finite data.

use proptest::prelude::*;

use kiln::check::compare;
use kiln::ops::pooling::{
    average_pool2d, average_pool_tolerance, max_pool2d, pool2d_output_shape, reference_pool2d,
    Pool2dOptions, PoolKind,
};
use kiln::tensor::GpuTensor;

use super::{check, dim, ok, passed, values};
use crate::common::gpu;

/// Options whose pads stay below the (dilated) window, as ONNX requires.
fn options() -> impl Strategy<Value = Pool2dOptions> {
    let shape = (
        [1usize..=4, 1usize..=4],
        [1usize..=3, 1usize..=3],
        [1usize..=2, 1usize..=2],
    );
    (
        shape,
        [0usize..=3, 0usize..=3, 0usize..=3, 0usize..=3],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |((kernel, strides, dilations), pads, ceil_mode, count_include_pad)| {
                let limit = |axis: usize| kernel[axis] - 1;
                Pool2dOptions {
                    kernel,
                    strides,
                    pads: [
                        pads[0].min(limit(0)),
                        pads[1].min(limit(1)),
                        pads[2].min(limit(0)),
                        pads[3].min(limit(1)),
                    ],
                    dilations,
                    ceil_mode,
                    count_include_pad,
                }
            },
        )
}

#[test]
fn pools_match_reference_on_random_windows() {
    let Some(gpu) = gpu() else { return };
    let strategy = (
        options(),
        dim(2),
        dim(3),
        1usize..=14,
        1usize..=14,
        any::<bool>(),
    )
        .prop_filter(
            "window fits the padded plane",
            |(options, _, _, h, w, _)| {
                pool2d_output_shape(&[1, 1, *h, *w], options)
                    .is_ok_and(|shape| shape[2] * shape[3] > 0)
            },
        )
        .prop_flat_map(|(options, n, c, h, w, max)| {
            let range = if max { 8.0 } else { 1.0 };
            (
                Just(options),
                Just([n, c, h, w]),
                Just(max),
                values(n * c * h * w, range),
            )
        });
    check("pool2d", strategy, |(options, shape, max, mut input)| {
        let kind = if max {
            PoolKind::Max
        } else {
            PoolKind::Average
        };
        if !max {
            // Average's tolerance is derived for finite inputs of magnitude at most 1.
            input
                .iter_mut()
                .filter(|v| !v.is_finite())
                .for_each(|v| *v = 0.5);
        }
        let tensor = ok("upload", GpuTensor::upload(gpu, &shape, &input))?;
        let output = match kind {
            PoolKind::Max => max_pool2d(gpu, &tensor, &options),
            PoolKind::Average => average_pool2d(gpu, &tensor, &options),
        };
        let output = ok("pool", output)?;
        let want = reference_pool2d(kind, &input, shape, &options);
        let tolerance = match kind {
            PoolKind::Max => 0.0,
            PoolKind::Average => average_pool_tolerance(options.kernel[0] * options.kernel[1], 1.0),
        };
        let got = ok("read", output.read::<f32>(gpu))?;
        let label = format!("{kind:?} {shape:?} {options:?}");
        passed(compare(&label, &got, &want, &vec![tolerance; want.len()]))
    });
}
