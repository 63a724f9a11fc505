//! Softmax and LogSoftmax properties: random shapes up to rank 4, every axis (negative too), data
//! with NaN, ±inf and -0.0 mixed in, against the f64 reference and its tolerances.

use proptest::prelude::*;

use kiln::check::compare;
use kiln::ops::softmax::{log_softmax, reference_softmax, softmax};
use kiln::tensor::GpuTensor;

use super::{check, dim, ok, passed, values};
use crate::common::gpu;

#[test]
fn softmax_matches_reference_on_random_shapes_and_axes() {
    let Some(gpu) = gpu() else { return };
    let strategy = proptest::collection::vec(dim(300), 1..=4).prop_flat_map(|shape| {
        let rank = shape.len() as i64;
        let count = shape.iter().product::<usize>().min(1 << 14);
        let shape = if count == shape.iter().product::<usize>() {
            shape
        } else {
            vec![count]
        };
        (Just(shape), -rank..rank, any::<bool>(), values(count, 30.0))
    });
    check("softmax", strategy, |(shape, axis, log, x)| {
        let axis = axis.clamp(-(shape.len() as i64), shape.len() as i64 - 1);
        let x_gpu = ok("upload", GpuTensor::upload(gpu, &shape, &x))?;
        let run = if log { log_softmax } else { softmax };
        let got = ok("softmax", run(gpu, &x_gpu, axis))?;
        prop_assert_eq!(got.shape(), &shape[..]);
        let reference = ok("reference", reference_softmax(&x, &shape, axis, log))?;
        let got = ok("read", got.read::<f32>(gpu))?;
        let label = format!("log={log} {shape:?} axis {axis}");
        passed(compare(
            &label,
            &got,
            &reference.values(),
            &reference.tolerances(),
        ))
    });
}
