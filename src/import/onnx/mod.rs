//! ONNX protobuf in (to a [`crate::graph::Graph`]) and out.
//!
//! [`load_onnx`] / [`parse_onnx`] decode a `ModelProto` with hand-written prost messages
//! ([`proto`]), convert every node of the `ai.onnx` domain (opsets 6 to 28) to kiln's typed
//! [`crate::graph::Op`] with ONNX's defaults filled and old-opset attributes turned into inputs,
//! sort the nodes and validate the graph. Every malformed file is an
//! [`crate::Error::InvalidModel`] and every well-formed one kiln cannot run an
//! [`crate::Error::Unsupported`] naming the node, op or tensor; sizes read from the file are
//! checked before anything is allocated by them (decoded tensors take at most 8 bytes per byte
//! of the file: an INT64 element stored as a one-byte varint; external data at most the bytes of
//! its files; any one tensor at most [`crate::limits::max_tensor_bytes`]). The file itself must
//! be a regular file of at most 2 GiB, protobuf's limit.
//!
//! [`to_onnx_bytes`] / [`save_onnx`] write a graph back out (opset 17 unless an op needs a later
//! one), for other runtimes.
//!
//! ```no_run
//! let graph = kiln::import::onnx::load_onnx(std::path::Path::new("model.onnx"))?;
//! println!("{} nodes", graph.nodes.len());
//! # Ok::<(), kiln::Error>(())
//! ```

mod attributes;
mod convert;
mod export;
mod external;
#[cfg(test)]
mod hostile_tests;
mod int4;
#[cfg(test)]
mod legacy_opset_tests;
#[cfg(test)]
mod loader_tests;
mod names;
#[cfg(test)]
mod one_form_tests;
#[cfg(test)]
mod opset_tests;
pub mod proto;
mod reader;
#[cfg(test)]
mod registry_tests;
mod tensor;
#[cfg(test)]
mod testing;
mod topo;

pub use convert::SUPPORTED_OPS;
pub use export::{save_onnx, save_onnx_with, to_onnx_bytes, to_onnx_bytes_with, ExportOptions};

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::tensor::HostTensor;
use external::ExternalData;
use prost::Message;
use std::path::Path;

/// Reads the ONNX model at `path`; external tensor data is read relative to its directory.
pub fn load_onnx(path: &Path) -> Result<Graph> {
    let bytes = crate::limits::read_protobuf_file(path, "ONNX model")?;
    let base_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    parse_onnx(&bytes, Some(base_dir))
}

/// Decodes an ONNX model from `bytes`. Tensors with external data are read relative to
/// `base_dir`; without one they are an error.
pub fn parse_onnx(bytes: &[u8], base_dir: Option<&Path>) -> Result<Graph> {
    let model = proto::ModelProto::decode(bytes).map_err(|e| decode_error("model", e))?;
    reader::graph_from_model(model, base_dir)
}

/// Decodes one serialized `TensorProto` (the `input_0.pb` files of ONNX test data sets) into its
/// name and value.
pub fn parse_tensor_proto(bytes: &[u8]) -> Result<(String, HostTensor)> {
    let proto = proto::TensorProto::decode(bytes).map_err(|e| decode_error("tensor", e))?;
    let location = format!("tensor '{}'", proto.name);
    let tensor = tensor::tensor_from_proto(&proto, &location, &mut ExternalData::new(None))?;
    Ok((proto.name, tensor))
}

fn decode_error(what: &str, error: prost::DecodeError) -> Error {
    Error::InvalidModel {
        location: format!("{what} protobuf"),
        detail: format!("not a valid ONNX {what}: {error}"),
    }
}
