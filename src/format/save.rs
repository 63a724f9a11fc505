//! A [`Graph`] to `.kiln` bytes: one safetensors tensor per dense initializer and per part of a
//! packed weight, and the [`Header`] JSON in the safetensors `__metadata__` under `kiln`.

use crate::error::{Error, Result};
use crate::format::header::{GraphStructure, Header, WeightLayout, FORMAT_VERSION, METADATA_KEY};
use crate::format::parts::{dense_part, packed_parts, StoredTensor};
use crate::format::Provenance;
use crate::graph::Graph;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// `graph` as the bytes of a `.kiln` file. The graph must pass [`Graph::validate`]; a dense
/// initializer whose name equals a packed part's (`<weight>.q4.packed`, ...) is
/// [`Error::Unsupported`]. The same graph and provenance always give the same bytes.
pub fn to_kiln_bytes(graph: &Graph, provenance: &Provenance) -> Result<Vec<u8>> {
    graph.validate()?;
    let mut weights = BTreeMap::new();
    let mut tensors = BTreeMap::new();
    for (name, tensor) in &graph.initializers {
        weights.insert(name.clone(), WeightLayout::Dense);
        insert_unique(&mut tensors, name.clone(), dense_part(tensor))?;
    }
    for (name, weight) in &graph.packed_weights {
        let (layout, parts) = packed_parts(name, weight);
        weights.insert(name.clone(), layout);
        for (part, tensor) in parts {
            insert_unique(&mut tensors, part, tensor)?;
        }
    }
    let header = Header {
        format_version: FORMAT_VERSION,
        graph: GraphStructure::of(graph),
        weights,
        provenance: provenance.clone(),
    };
    let metadata = HashMap::from([(METADATA_KEY.to_string(), header.to_json()?)]);
    safetensors::serialize(&tensors, Some(metadata)).map_err(|error| Error::Unsupported {
        location: format!("model '{}'", graph.name),
        detail: format!("cannot be written as safetensors: {error}"),
    })
}

/// Writes `graph` to `path` as a `.kiln` file (see [`to_kiln_bytes`]).
pub fn save_kiln(graph: &Graph, provenance: &Provenance, path: &Path) -> Result<()> {
    let bytes = to_kiln_bytes(graph, provenance)?;
    std::fs::write(path, bytes).map_err(|error| Error::io(path, error))
}

fn insert_unique(
    tensors: &mut BTreeMap<String, StoredTensor>,
    name: String,
    tensor: StoredTensor,
) -> Result<()> {
    if tensors.contains_key(&name) {
        return Err(Error::Unsupported {
            location: format!("initializer '{name}'"),
            detail: "its name is also a part of a packed weight's storage; rename it".into(),
        });
    }
    tensors.insert(name, tensor);
    Ok(())
}
