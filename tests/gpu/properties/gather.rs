//! Gather properties, bit for bit against the host reference: random f32 data up to rank 3 (NaN
//! and -0.0 included), a random (possibly negative) axis, and random indices of rank 0 to 2 with
//! negative ones, given both as constant i64 indices and as a device i32 tensor.

use proptest::prelude::*;

use kiln::ops::indexing::{gather, reference_gather, GatherIndices};
use kiln::tensor::{GpuTensor, HostTensor};

use super::{check, dim, ok, values};
use crate::common::gpu;

/// Data shape, axis (spelled positive or negative), indices shape and the indices in range.
type Problem = (Vec<usize>, i64, Vec<usize>, Vec<i64>, Vec<f32>);

fn problems() -> impl Strategy<Value = Problem> {
    let shapes = (
        proptest::collection::vec(dim(9), 1..=3),
        proptest::collection::vec(dim(5), 0..=2),
    );
    (shapes, any::<bool>(), 0usize..3).prop_flat_map(|((shape, index_shape), negative, axis)| {
        let axis = axis % shape.len();
        let extent = shape[axis] as i64;
        let spelled = axis as i64 - if negative { shape.len() as i64 } else { 0 };
        let count: usize = index_shape.iter().product();
        let indices = proptest::collection::vec(-extent..extent, count);
        let data = values(shape.iter().product(), 50.0);
        (Just(shape), Just(spelled), Just(index_shape), indices, data)
    })
}

#[test]
fn gather_matches_reference_on_random_indices() {
    let Some(gpu) = gpu() else { return };
    check(
        "gather",
        problems(),
        |(shape, axis, index_shape, indices, data)| {
            let host = ok("data", HostTensor::from_f32(&shape, data.clone()))?;
            let host_indices = ok(
                "indices",
                HostTensor::from_i64(&index_shape, indices.clone()),
            )?;
            let want = ok("reference", reference_gather(&host, &host_indices, axis))?;
            let want_bits: Vec<u32> = ok("want", want.expect_f32("test"))?
                .iter()
                .map(|v| v.to_bits())
                .collect();
            let data_gpu = ok("upload", GpuTensor::upload(gpu, &shape, &data))?;
            let narrow: Vec<i32> = indices.iter().map(|&i| i as i32).collect();
            let device = ok(
                "upload indices",
                GpuTensor::upload(gpu, &index_shape, &narrow),
            )?;
            for (kind, source) in [
                ("constant", GatherIndices::Constant(&host_indices)),
                ("device", GatherIndices::Device(&device)),
            ] {
                let got = ok("gather", gather(gpu, &data_gpu, source, axis, ""))?;
                prop_assert_eq!(got.shape(), want.shape());
                let got: Vec<u32> = ok("read", got.read::<f32>(gpu))?
                    .iter()
                    .map(|v| v.to_bits())
                    .collect();
                prop_assert!(
                    got == want_bits,
                    "{} Gather {:?} axis {} indices {:?} differs",
                    kind,
                    shape,
                    axis,
                    indices
                );
            }
            Ok(())
        },
    );
}
