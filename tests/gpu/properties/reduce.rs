//! ReduceSum/Mean/Max properties: random shapes up to rank 4, random axis subsets (negative
//! spellings, none = all), keepdims both ways, data with NaN, ±inf and -0.0 mixed in, against the
//! f64 reference and its tolerances.

use proptest::prelude::*;

use kiln::check::compare;
use kiln::ops::reduce::{reduce, reference_reduce, ReduceKind, Reduction};
use kiln::tensor::GpuTensor;

use super::{check, dim, ok, passed, values};
use crate::common::gpu;

const KINDS: [ReduceKind; 3] = [ReduceKind::Sum, ReduceKind::Mean, ReduceKind::Max];

/// x's shape and the axes to reduce, each spelled positive or negative at random.
fn shapes_and_axes() -> impl Strategy<Value = (Vec<usize>, Vec<i64>)> {
    // Small ranks-1-to-4 shapes, and rows longer than a 256-thread workgroup; at most ~21k
    // elements, so generating the data stays cheap.
    let shapes = prop_oneof![
        proptest::collection::vec(dim(12), 1..=4),
        (dim(3), 200usize..=700).prop_map(|(rows, row)| vec![rows, row]),
    ];
    shapes.prop_flat_map(|shape: Vec<usize>| {
        let rank = shape.len();
        let axes = proptest::collection::vec((any::<bool>(), any::<bool>()), rank);
        (Just(shape), axes).prop_map(move |(shape, picks)| {
            let axes = (0..rank)
                .filter(|&axis| picks[axis].0)
                .map(|axis| axis as i64 - if picks[axis].1 { rank as i64 } else { 0 })
                .collect();
            (shape, axes)
        })
    })
}

#[test]
fn reductions_match_reference_on_random_axes() {
    let Some(gpu) = gpu() else { return };
    let strategy = (shapes_and_axes(), 0..KINDS.len(), any::<bool>()).prop_flat_map(
        |((shape, axes), kind, keepdims)| {
            let count = shape.iter().product();
            (
                Just(shape),
                Just(axes),
                Just(kind),
                Just(keepdims),
                values(count, 4.0),
            )
        },
    );
    check("reduce", strategy, |(shape, axes, kind, keepdims, x)| {
        let kind = KINDS[kind];
        let reduction = Reduction::from(kind);
        let reference = ok(
            "reference",
            reference_reduce(reduction, &x, &shape, &axes, keepdims),
        )?;
        let x_gpu = ok("upload", GpuTensor::upload(gpu, &shape, &x))?;
        let got = ok("reduce", reduce(gpu, kind, &x_gpu, &axes, keepdims))?;
        prop_assert_eq!(got.shape(), &reference.shape[..]);
        let got = ok("read", got.read::<f32>(gpu))?;
        let label = format!("{kind:?} {shape:?} axes {axes:?} keepdims {keepdims}");
        passed(compare(
            &label,
            &got,
            &reference.values(),
            &reference.tolerances(),
        ))
    });
}
