//! Tensor files: numpy `.npy` in and out, and ONNX `TensorProto` files (`.pb`) as the ONNX test
//! suites store them.

pub mod npy;
pub mod tensor_file;
