//! Quantized models in integers: kiln's QDQ lowering (`DQ → Conv → [Relu] → Q` ⇒ QLinearConv) on
//! the CPU reference and on the GPU, against kiln's own float path and against onnxruntime.
//!
//! - Models quantized by onnxruntime (`scripts/make_quantized_models.sh`, into the ignored
//!   `cache/quantized-models/`): kiln runs each and matches onnxruntime's outputs within
//!   `requantization_depth` output steps. Without the data each test says why it skips, unless
//!   `KILN_REQUIRE_QUANTIZED_MODELS=1` (scripts/test.sh sets it) makes its absence a failure.
//! - The lowered (integer) graphs of those models exported back to standard ONNX QDQ, run by
//!   onnxruntime (`scripts/run_onnxruntime.py` in the same venv): the same outputs as kiln's
//!   integer run (`export_to_onnxruntime`).
//! - Small graphs built here (odd channel counts, zero points 0/128/255 and −128/0/127, saturating
//!   scales): the lowered graph's integers are the same bytes on the CPU and the GPU, and within a
//!   derived bound of the unlowered float path (`chain_step_bounds`); likewise a chain of the
//!   integer element-wise ops (QLinearAdd → LookupTable → QLinearConcat, `elementwise.rs`).
mod bench;
mod chains;
mod common;
mod elementwise;
mod export_to_onnxruntime;
mod moves_and_pools;
mod onnxruntime_models;
mod onnxruntime_runner;
mod qlinear_matmul_export;
mod real_architectures;
mod real_detectors;
mod real_models;
mod steps;
