//! Loader tests for input that is too large or no regular file: an external tensor whose dims
//! imply 8 GiB inside a sparse file, `/dev/zero` as a model, a 3 GiB (sparse) model file. Each
//! must fail by the caps in [`crate::limits`] within seconds, reading and allocating nothing of
//! that size.

use super::load_onnx;
use super::loader_tests::{external_weight_model, graph_mut};
use super::testing::TempDir;
use crate::error::Error;
use prost::Message;

#[test]
fn huge_external_tensors_in_sparse_files_fail_before_reading() {
    let dir = TempDir::new("loader-sparse");
    // 8 GiB of holes: the dims imply as much, so only the cap can stop the read.
    let sparse = std::fs::File::create(dir.0.join("w.bin")).unwrap();
    sparse.set_len(8 << 30).unwrap();
    let mut model = external_weight_model("w.bin", "0");
    let weight = &mut graph_mut(&mut model).initializer[0];
    weight.dims = vec![1 << 31];
    weight.external_data.retain(|entry| entry.key != "length");
    let model_path = dir.0.join("model.onnx");
    std::fs::write(&model_path, model.encode_to_vec()).unwrap();
    let started = std::time::Instant::now();
    let error = load_onnx(&model_path).unwrap_err();
    assert!(matches!(error, Error::OverLimit { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("initializer 'w'") && message.contains("8589934592 bytes"),
        "{message}"
    );
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}

#[cfg(unix)]
#[test]
fn models_that_are_devices_or_too_long_are_refused_unread() {
    let error = load_onnx(std::path::Path::new("/dev/zero")).unwrap_err();
    assert!(error.to_string().contains("not a regular file"), "{error}");
    let dir = TempDir::new("loader-long");
    let long = dir.0.join("long.onnx");
    std::fs::File::create(&long)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    let error = load_onnx(&long).unwrap_err();
    assert!(error.to_string().contains("2 GiB"), "{error}");
}
