//! The runtime pieces: pipeline cache, buffer pool, one encoder per batch of ops, readback.

use kiln::ops::matmul::f32::{matmul_f32, MATMUL_F32_SCALAR};
use kiln::ops::matmul::MatmulOptions;
use kiln::tensor::GpuTensor;
use kiln::Error;

use crate::common::gpu;

#[test]
fn upload_and_read_round_trip_every_dtype() {
    let Some(gpu) = gpu() else { return };
    let floats = [1.5f32, -2.0, 0.0, f32::MAX];
    assert_eq!(
        GpuTensor::upload(gpu, &[4], &floats)
            .unwrap()
            .read::<f32>(gpu)
            .unwrap(),
        floats
    );
    let bytes = [-128i8, 0, 127];
    assert_eq!(
        GpuTensor::upload(gpu, &[3], &bytes)
            .unwrap()
            .read::<i8>(gpu)
            .unwrap(),
        bytes
    );
    let halves = [
        half::f16::from_f32(0.5),
        half::f16::from_f32(-3.0),
        half::f16::MAX,
    ];
    assert_eq!(
        GpuTensor::upload(gpu, &[3], &halves)
            .unwrap()
            .read::<half::f16>(gpu)
            .unwrap(),
        halves
    );
    let empty: [f32; 0] = [];
    assert!(GpuTensor::upload(gpu, &[0, 4], &empty)
        .unwrap()
        .read::<f32>(gpu)
        .unwrap()
        .is_empty());
}

#[test]
fn wrong_lengths_and_dtypes_are_errors() {
    let Some(gpu) = gpu() else { return };
    assert!(matches!(
        GpuTensor::upload(gpu, &[2, 2], &[1.0f32; 3]),
        Err(Error::ShapeMismatch { .. })
    ));
    let tensor = GpuTensor::upload(gpu, &[2], &[1.0f32, 2.0]).unwrap();
    assert!(matches!(
        tensor.read::<i32>(gpu),
        Err(Error::DTypeMismatch { .. })
    ));
}

#[test]
fn pipelines_compile_once_and_buffers_are_reused() {
    let Some(gpu) = gpu() else { return };
    let a = GpuTensor::upload(gpu, &[3, 5], &[0.5f32; 15]).unwrap();
    let b = GpuTensor::upload(gpu, &[5, 7], &[2.0f32; 35]).unwrap();
    let options = MatmulOptions::default();
    drop(matmul_f32(gpu, &a, &b, None, &options).unwrap());
    gpu.synchronize().unwrap();
    let before = gpu.pool_stats();
    for _ in 0..5 {
        let c = matmul_f32(gpu, &a, &b, None, &options).unwrap();
        assert_eq!(c.read::<f32>(gpu).unwrap(), vec![5.0; 21]);
    }
    let after = gpu.pool_stats();
    // Other tests fill the shared cache concurrently, so compare pipeline identity, not counts:
    // the same variant must come back as the very same compiled pipeline.
    let constants = [("HAS_BIAS", 0.0), ("B_TRANSPOSED", 1.0)];
    let first = gpu.pipeline(&MATMUL_F32_SCALAR, &constants).unwrap();
    let second = gpu.pipeline(&MATMUL_F32_SCALAR, &constants).unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &second),
        "the same variant compiled again"
    );
    let other = gpu
        .pipeline(&MATMUL_F32_SCALAR, &[("HAS_BIAS", 1.0)])
        .unwrap();
    assert!(
        !std::sync::Arc::ptr_eq(&first, &other),
        "different constants must compile apart"
    );
    assert!(
        after.reuses >= before.reuses + 5,
        "pool reused {} -> {}",
        before.reuses,
        after.reuses
    );
}

#[test]
fn many_ops_record_into_one_submission() {
    let Some(gpu) = gpu() else { return };
    // A chain of 20 dependent matmuls recorded without a sync in between: the result is only
    // right if the recorded order is kept inside the single submission.
    let identity: Vec<f32> = (0..16)
        .map(|i| if i % 5 == 0 { 1.0 } else { 0.0 })
        .collect();
    let eye = GpuTensor::upload(gpu, &[4, 4], &identity).unwrap();
    let mut x =
        GpuTensor::upload(gpu, &[2, 4], &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]).unwrap();
    for _ in 0..20 {
        x = matmul_f32(gpu, &x, &eye, None, &MatmulOptions::default()).unwrap();
    }
    assert_eq!(
        x.read::<f32>(gpu).unwrap(),
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    );
}
