//! The `.kiln` model file: a [safetensors](https://github.com/huggingface/safetensors) file whose
//! tensors are the model's weights and whose `__metadata__` holds, under the key `kiln`, a JSON
//! [`Header`]: the format version, the graph (serde derives on the IR), each weight's layout
//! (dense, or the parts and parameters of a Q8, Q4, BSR or N:M packed weight) and the
//! [`Provenance`] (source model digest, compression recipe, kiln version). Any safetensors tool
//! can open it and list the weights.
//!
//! A file written by a newer kiln (a higher `format_version`) is an [`crate::Error::Unsupported`]
//! naming both versions; a truncated, oversized or inconsistent file is an
//! [`crate::Error::InvalidModel`], never a panic (`fuzz/fuzz_targets/load_kiln.rs`).
//!
//! ```no_run
//! use kiln::format::{load_kiln, save_kiln, Provenance};
//! use std::path::Path;
//! let graph = kiln::import::onnx::load_onnx(Path::new("model.onnx"))?;
//! let provenance = Provenance::from_sources(&[Path::new("model.onnx")], serde_json::Value::Null)?;
//! save_kiln(&graph, &provenance, Path::new("model.kiln"))?;
//! assert_eq!(load_kiln(Path::new("model.kiln"))?.graph, graph);
//! # Ok::<(), kiln::Error>(())
//! ```

mod header;
pub mod inspect;
mod load;
mod parts;
mod provenance;
mod save;
#[cfg(test)]
mod tests;
mod unpack;

pub use header::{
    check_version, GraphStructure, Header, WeightLayout, FORMAT_VERSION, MAX_HEADER_BYTES,
    METADATA_KEY,
};
pub use load::{load_kiln, parse_kiln, KilnModel};
pub use parts::{dense_part, packed_parts, StoredTensor};
pub use provenance::Provenance;
pub use save::{save_kiln, to_kiln_bytes};
