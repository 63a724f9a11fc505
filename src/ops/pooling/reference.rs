//! The pooling references: plain loops over every window, in f64, the specification the GPU
//! kernels are checked against.

use crate::ops::pooling::{Pool2dOptions, PoolKind};

/// A 2-D pool of the NCHW tensor `input` (shape `shape`), row-major output of
/// [`pool2d_output_shape`](super::pool2d_output_shape) (the options must be valid).
///
/// A tap counts as padding when it falls outside the input; with `count_include_pad` the average
/// divides by the taps inside the padded input `[-pad_begin, size + pad_end)` on both axes,
/// otherwise by the taps on real elements. A window with no real element (possible only with
/// dilation) is `-inf` for max and 0 for average.
pub fn reference_pool2d(
    kind: PoolKind,
    input: &[f32],
    shape: [usize; 4],
    options: &Pool2dOptions,
) -> Vec<f32> {
    let [n, c, h, w] = shape;
    let [out_h, out_w] = options
        .output_size([h, w])
        .expect("reference_pool2d needs valid options");
    let mut output = Vec::with_capacity(n * c * out_h * out_w);
    for plane in input.chunks(h * w).take(n * c) {
        for oy in 0..out_h {
            for ox in 0..out_w {
                output.push(window(kind, plane, [h, w], [oy, ox], options) as f32);
            }
        }
    }
    output
}

/// The positions (possibly outside `0..size`) of a window's taps along one axis, and whether
/// each lies inside the padded input.
pub(super) fn taps(
    options: &Pool2dOptions,
    axis: usize,
    size: usize,
    out: usize,
) -> Vec<(i64, bool)> {
    let start = (out * options.strides[axis]) as i64 - options.pads[axis] as i64;
    let padded_end = (size + options.pads[axis + 2]) as i64;
    (0..options.kernel[axis])
        .map(|tap| {
            let position = start + (tap * options.dilations[axis]) as i64;
            (position, position < padded_end)
        })
        .collect()
}

fn window(
    kind: PoolKind,
    plane: &[f32],
    [h, w]: [usize; 2],
    [oy, ox]: [usize; 2],
    options: &Pool2dOptions,
) -> f64 {
    let inside = |position: i64, size: usize| (0..size as i64).contains(&position);
    let mut maximum = f64::NEG_INFINITY;
    let mut sum = 0.0f64;
    let mut real = 0usize;
    let mut in_padded = 0usize;
    for &(y, y_padded) in &taps(options, 0, h, oy) {
        for &(x, x_padded) in &taps(options, 1, w, ox) {
            if y_padded && x_padded {
                in_padded += 1;
            }
            if !(inside(y, h) && inside(x, w)) {
                continue;
            }
            let value = f64::from(plane[y as usize * w + x as usize]);
            real += 1;
            sum += value;
            if !maximum.is_nan() && (value.is_nan() || value > maximum) {
                maximum = value;
            }
        }
    }
    match kind {
        PoolKind::Max => maximum,
        PoolKind::Average => {
            let count = if options.count_include_pad {
                in_padded
            } else {
                real
            };
            if count == 0 {
                0.0
            } else {
                sum / count as f64
            }
        }
    }
}

/// A global pool: each of the `planes` consecutive runs of `plane_len` elements of `input`
/// reduced to its maximum (NaN propagating) or mean.
pub fn reference_global_pool(kind: PoolKind, input: &[f32], plane_len: usize) -> Vec<f32> {
    if plane_len == 0 {
        return Vec::new();
    }
    input
        .chunks(plane_len)
        .map(|plane| match kind {
            PoolKind::Max => plane.iter().fold(f64::NEG_INFINITY, |acc, &v| {
                let v = f64::from(v);
                if acc.is_nan() || v.is_nan() {
                    f64::NAN
                } else {
                    acc.max(v)
                }
            }) as f32,
            PoolKind::Average => {
                (plane.iter().map(|&v| f64::from(v)).sum::<f64>() / plane_len as f64) as f32
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_counts_padding_only_when_asked() {
        // 2x2 input, 2x2 window, stride 2, pad 1 on every side: four windows of one element each.
        let input = [1.0, 2.0, 3.0, 4.0];
        let mut options = Pool2dOptions {
            pads: [1, 1, 1, 1],
            ..Pool2dOptions::square(2, 2)
        };
        let excluded = reference_pool2d(PoolKind::Average, &input, [1, 1, 2, 2], &options);
        assert_eq!(excluded, vec![1.0, 2.0, 3.0, 4.0]);
        options.count_include_pad = true;
        let included = reference_pool2d(PoolKind::Average, &input, [1, 1, 2, 2], &options);
        assert_eq!(included, vec![0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn max_propagates_nan_and_ignores_padding() {
        let input = [-1.0, f32::NAN, -3.0, -4.0];
        let options = Pool2dOptions {
            pads: [1, 1, 0, 0],
            ..Pool2dOptions::square(2, 1)
        };
        let got = reference_pool2d(PoolKind::Max, &input, [1, 1, 2, 2], &options);
        assert_eq!(got[0], -1.0);
        assert!(got[1].is_nan() && got[3].is_nan());
        assert_eq!(got[2], -1.0);
        let global = reference_global_pool(PoolKind::Max, &input, 2);
        assert!(global[0].is_nan());
        assert_eq!(global[1], -3.0);
    }
}
