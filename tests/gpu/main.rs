//! GPU kernels against their CPU references, on the default device (lavapipe in CI). One test
//! binary, so the device is opened once.

mod common;
mod device;
mod matmul_f16;
mod matmul_f32;
mod matmul_int4;
mod matmul_int8;
