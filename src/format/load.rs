//! `.kiln` bytes to a [`Graph`]: the safetensors container checked by the `safetensors` crate
//! (header size, offsets, each byte length against dtype × shape and the file), the header's
//! version checked first, every weight rebuilt and checked by `crate::format::unpack`, no payload
//! tensor left unused, and the graph checked by [`Graph::validate`].

use crate::error::{Error, Result};
use crate::format::header::{Header, WeightLayout, METADATA_KEY};
use crate::format::unpack::Payload;
use crate::format::Provenance;
use crate::graph::Graph;
use safetensors::SafeTensors;
use std::path::Path;

/// A model read from a `.kiln` file.
#[derive(Clone, Debug, PartialEq)]
pub struct KilnModel {
    /// The graph, weights included.
    pub graph: Graph,
    /// Where it came from.
    pub provenance: Provenance,
    /// The format version the file was written in.
    pub format_version: u32,
}

/// Reads the `.kiln` file at `path` through a memory map: the file is never read into one
/// buffer, and each weight is copied once, from the mapped pages into the `Vec` its tensor owns
/// (kiln's host tensors own their elements, so that copy remains). The file must not change
/// while it is read.
pub fn load_kiln(path: &Path) -> Result<KilnModel> {
    let file = std::fs::File::open(path).map_err(|error| Error::io(path, error))?;
    // SAFETY: the map is read only inside this call, and kiln does not write the file meanwhile;
    // another process truncating it could fault the read, which no read API avoids for mmap.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|error| Error::io(path, error))?;
    parse_kiln(&map)
}

/// Decodes a `.kiln` file from `bytes`.
pub fn parse_kiln(bytes: &[u8]) -> Result<KilnModel> {
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(container_error)?;
    let json = metadata
        .metadata()
        .as_ref()
        .and_then(|entries| entries.get(METADATA_KEY))
        .ok_or_else(|| Error::InvalidModel {
            location: "safetensors metadata".into(),
            detail: format!(
                "no '{METADATA_KEY}' header: a safetensors file, but not a .kiln model"
            ),
        })?;
    let header = Header::parse(json)?;
    let mut payload = Payload::new(SafeTensors::deserialize(bytes).map_err(container_error)?);
    let mut graph = header.graph.into_graph();
    for (name, layout) in &header.weights {
        if *layout == WeightLayout::Dense {
            graph
                .initializers
                .insert(name.clone(), payload.dense(name)?);
        } else {
            graph
                .packed_weights
                .insert(name.clone(), payload.packed(name, layout)?);
        }
    }
    if let Some(name) = payload.first_unused() {
        return Err(Error::InvalidModel {
            location: format!("kiln tensor '{name}'"),
            detail: "the payload holds a tensor no weight in the header uses".into(),
        });
    }
    graph.validate()?;
    Ok(KilnModel {
        graph,
        provenance: header.provenance,
        format_version: header.format_version,
    })
}

fn container_error(error: safetensors::SafeTensorError) -> Error {
    Error::InvalidModel {
        location: "safetensors container".into(),
        detail: format!("not a valid .kiln (safetensors) file: {error}"),
    }
}
