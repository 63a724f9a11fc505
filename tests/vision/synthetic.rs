//! Synthetic head outputs for the decode tests (shared by `tests/vision.rs` and the GPU tests):
//! each value comes from a function of its (anchor, row, column, value) position, placed by an
//! index formula written here independently of `kiln::vision::HeadLayout`.

use kiln::check::SeededRng;
use kiln::vision::{BoxesLayout, GridLayout};

/// An anchor grid's extents.
#[derive(Clone, Copy, Debug)]
pub struct GridSpec {
    pub anchors: usize,
    pub height: usize,
    pub width: usize,
    pub classes: usize,
    pub layout: GridLayout,
}

/// The grid's shape and values: `value(anchor, row, column, k)` for k in 0..5 + classes.
pub fn grid_tensor(
    spec: GridSpec,
    value: impl Fn(usize, usize, usize, usize) -> f32,
) -> (Vec<usize>, Vec<f32>) {
    let per_anchor = 5 + spec.classes;
    let shape = match spec.layout {
        GridLayout::ChannelsFirst => vec![1, spec.anchors * per_anchor, spec.height, spec.width],
        GridLayout::ChannelsLast => vec![1, spec.anchors, spec.height, spec.width, per_anchor],
    };
    let mut values = vec![0.0; shape.iter().product()];
    for anchor in 0..spec.anchors {
        for row in 0..spec.height {
            for column in 0..spec.width {
                for k in 0..per_anchor {
                    let index = match spec.layout {
                        GridLayout::ChannelsFirst => {
                            ((anchor * per_anchor + k) * spec.height + row) * spec.width + column
                        }
                        GridLayout::ChannelsLast => {
                            ((anchor * spec.height + row) * spec.width + column) * per_anchor + k
                        }
                    };
                    values[index] = value(anchor, row, column, k);
                }
            }
        }
    }
    (shape, values)
}

/// A box list's shape and values: `value(candidate, k)` for k in 0..values_per_box.
pub fn boxes_tensor(
    candidates: usize,
    values_per_box: usize,
    layout: BoxesLayout,
    value: impl Fn(usize, usize) -> f32,
) -> (Vec<usize>, Vec<f32>) {
    let mut values = vec![0.0; candidates * values_per_box];
    for candidate in 0..candidates {
        for k in 0..values_per_box {
            let index = match layout {
                BoxesLayout::ChannelsFirst => k * candidates + candidate,
                BoxesLayout::ChannelsLast => candidate * values_per_box + k,
            };
            values[index] = value(candidate, k);
        }
    }
    let shape = match layout {
        BoxesLayout::ChannelsFirst => vec![1, values_per_box, candidates],
        BoxesLayout::ChannelsLast => vec![1, candidates, values_per_box],
    };
    (shape, values)
}

/// Seeded raw grid values: box logits in [-2, 2], objectness and class logits in [-6, 3], so most
/// candidates fall below a 0.25 threshold and some pass.
pub fn random_grid(spec: GridSpec, seed: u64) -> (Vec<usize>, Vec<f32>) {
    let per_anchor = 5 + spec.classes;
    let count = spec.anchors * spec.height * spec.width * per_anchor;
    let mut rng = SeededRng::new(seed);
    let draws: Vec<f32> = (0..count)
        .map(|i| {
            if i % per_anchor < 4 {
                rng.uniform(-2.0, 2.0)
            } else {
                rng.uniform(-6.0, 3.0)
            }
        })
        .collect();
    grid_tensor(spec, |anchor, row, column, k| {
        draws[((anchor * spec.height + row) * spec.width + column) * per_anchor + k]
    })
}

/// Seeded anchor-free values: centres in [0, 640), sizes in [4, 200), class scores in [0, 1)
/// (squared, so few are high), for `candidates` boxes of `classes` classes.
pub fn random_boxes(
    candidates: usize,
    classes: usize,
    layout: BoxesLayout,
    seed: u64,
) -> (Vec<usize>, Vec<f32>) {
    let mut rng = SeededRng::new(seed);
    let per_box = 4 + classes;
    let draws: Vec<f32> = (0..candidates * per_box)
        .map(|i| match i % per_box {
            0 | 1 => rng.uniform(0.0, 640.0),
            2 | 3 => rng.uniform(4.0, 200.0),
            _ => rng.uniform(0.0, 1.0).powi(2),
        })
        .collect();
    boxes_tensor(candidates, per_box, layout, |n, k| draws[n * per_box + k])
}
