//! GPU kernels against their CPU references, on the default device (lavapipe in CI). One test
//! binary, so the device is opened once.

mod bench;
mod big_tensors;
mod common;
mod conv;
mod convert;
mod detect;
mod device;
mod elementwise;
mod gemm;
mod layout;
mod lrn;
mod matmul_f16;
mod matmul_f32;
mod matmul_int4;
mod matmul_int8;
mod matmul_w8;
mod normalization;
mod pooling;
mod properties;
mod qlinear_matmul;
mod quantize;
mod quantized_elementwise;
mod quantized_integer;
mod quantized_pooling;
mod reduce;
mod resize;
mod runtime;
mod softmax;
mod sparse_bsr;
mod sparse_nm;
