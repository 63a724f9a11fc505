//! The JSON header of a `.kiln` file: the format version, the graph without its weight bytes,
//! how each weight is laid out across the payload's tensors, and the provenance. It is stored as
//! the string value of the `kiln` key of the safetensors `__metadata__`.

use crate::error::{Error, Result};
use crate::format::Provenance;
use crate::graph::{Graph, Node, ValueInfo};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `.kiln` format version this kiln writes, and the newest it reads. Version 2 drops the
/// zero-point part of symmetric Q8 and Q4 weights (`symmetric` in their [`WeightLayout`]);
/// version 1 files, which always store it, still read.
pub const FORMAT_VERSION: u32 = 2;

/// The safetensors `__metadata__` key holding the header JSON.
pub const METADATA_KEY: &str = "kiln";

/// The largest header JSON kiln reads, in bytes (safetensors itself caps its whole header at
/// 100 MB). A graph of 100 000 nodes takes about 30 MB.
pub const MAX_HEADER_BYTES: usize = 64 << 20;

/// Everything in a `.kiln` file except the tensor bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The graph's structure.
    pub graph: GraphStructure,
    /// Every initializer, dense or packed, by value name: how its payload tensors encode it.
    pub weights: BTreeMap<String, WeightLayout>,
    /// Where the model came from.
    pub provenance: Provenance,
}

/// A [`Graph`] without its weights (those are [`Header::weights`] and the payload).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphStructure {
    /// [`Graph::name`].
    pub name: String,
    /// [`Graph::inputs`].
    pub inputs: Vec<ValueInfo>,
    /// [`Graph::outputs`].
    pub outputs: Vec<ValueInfo>,
    /// [`Graph::nodes`].
    pub nodes: Vec<Node>,
    /// [`Graph::metadata`].
    pub metadata: BTreeMap<String, String>,
}

impl GraphStructure {
    /// The structure of `graph`.
    pub fn of(graph: &Graph) -> Self {
        GraphStructure {
            name: graph.name.clone(),
            inputs: graph.inputs.clone(),
            outputs: graph.outputs.clone(),
            nodes: graph.nodes.clone(),
            metadata: graph.metadata.clone(),
        }
    }

    /// A graph of this structure with no weights yet.
    pub fn into_graph(self) -> Graph {
        Graph {
            name: self.name,
            inputs: self.inputs,
            outputs: self.outputs,
            nodes: self.nodes,
            metadata: self.metadata,
            ..Graph::default()
        }
    }
}

/// How one weight is stored. Each layout names the payload tensors it uses: `<name>` for a dense
/// weight, `<name>.<layout>.<part>` for the parts of a packed one (see `crate::format::parts`).
/// Packed layouts keep the parameters that are not tensor shapes; the logical tensor is `W`
/// (`[rows, cols]`), or `Wᵀ` when `transposed`, reshaped to `shape`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "layout", rename_all = "snake_case", deny_unknown_fields)]
pub enum WeightLayout {
    /// A dense tensor of the payload tensor's dtype and shape.
    Dense,
    /// Int8 per output row: `q8.values` I8 `[rows, cols]`, `q8.scales` F32 `[rows]`, and unless
    /// `symmetric`, `q8.zero_points` I8 `[rows]`.
    Q8 {
        /// `N`.
        rows: usize,
        /// `K`.
        cols: usize,
        /// The source stored uint8 (see [`crate::graph::PackedMatrix::Q8`]).
        unsigned: bool,
        /// Every zero point is 0 and none is stored (format version 2; absent, so false, in 1).
        #[serde(default)]
        symmetric: bool,
        /// The logical shape.
        shape: Vec<usize>,
        /// The logical tensor is `Wᵀ`.
        transposed: bool,
    },
    /// Int4 in groups along `K`: `q4.packed` U32 `[rows, words_per_row]`, `q4.scales` F16
    /// `[rows, groups_per_row]`, and unless `symmetric`, `q4.zero_points` U8
    /// `[rows, groups_per_row]`.
    Q4 {
        /// `N`.
        rows: usize,
        /// `K`.
        cols: usize,
        /// Elements per group: 32, 64 or 128.
        group_size: usize,
        /// Every zero point is 8 and none is stored (format version 2; absent, so false, in 1).
        #[serde(default)]
        symmetric: bool,
        /// The logical shape.
        shape: Vec<usize>,
        /// The logical tensor is `Wᵀ`.
        transposed: bool,
    },
    /// Block-sparse rows: `bsr.row_ptr` U32, `bsr.col_idx` U32, `bsr.values` F32, F16 or I8, and
    /// with I8 values `bsr.scales` F32 `[rows]`.
    Bsr {
        /// `N`.
        rows: usize,
        /// `K`.
        cols: usize,
        /// The block shape, `4x4` ... `32x1`.
        block: String,
        /// The logical shape.
        shape: Vec<usize>,
        /// The logical tensor is `Wᵀ`.
        transposed: bool,
    },
    /// N:M sparsity along `K`: `nm.values` F32 or F16, `nm.indices` U32 `[rows, words_per_row]`.
    NmSparse {
        /// `N`.
        rows: usize,
        /// `K`.
        cols: usize,
        /// Values kept per group.
        kept: usize,
        /// Group length `M`.
        group: usize,
        /// The logical shape.
        shape: Vec<usize>,
        /// The logical tensor is `Wᵀ`.
        transposed: bool,
    },
}

/// Only the version, read first so that a newer file is reported as such, not as malformed.
#[derive(Deserialize)]
struct VersionProbe {
    format_version: u32,
}

impl Header {
    /// Parses the header JSON: its size capped, its version checked before anything else.
    pub fn parse(json: &str) -> Result<Self> {
        if json.len() > MAX_HEADER_BYTES {
            return Err(invalid(format!(
                "the header is {} bytes, more than the {MAX_HEADER_BYTES} kiln reads",
                json.len()
            )));
        }
        let probe: VersionProbe = serde_json::from_str(json)
            .map_err(|error| invalid(format!("no readable format_version: {error}")))?;
        check_version(probe.format_version)?;
        let header: Header = serde_json::from_str(json)
            .map_err(|error| invalid(format!("malformed header: {error}")))?;
        header.check_layouts_of_version()?;
        Ok(header)
    }

    /// A version-1 file always stores zero points, so a `symmetric` layout in one is an error.
    fn check_layouts_of_version(&self) -> Result<()> {
        if self.format_version >= 2 {
            return Ok(());
        }
        let symmetric = self.weights.iter().find(|(_, layout)| {
            matches!(
                layout,
                WeightLayout::Q8 {
                    symmetric: true,
                    ..
                } | WeightLayout::Q4 {
                    symmetric: true,
                    ..
                }
            )
        });
        match symmetric {
            Some((name, _)) => Err(invalid(format!(
                "weight '{name}' is symmetric without zero points, which format version {} \
                 cannot store",
                self.format_version
            ))),
            None => Ok(()),
        }
    }

    /// The header as JSON; an error if it would not read back (a value JSON cannot hold).
    pub fn to_json(&self) -> Result<String> {
        let json = serde_json::to_string(self).map_err(|error| Error::Unsupported {
            location: "kiln header".into(),
            detail: format!("the graph cannot be written as JSON: {error}"),
        })?;
        serde_json::from_str::<Header>(&json).map_err(|error| Error::Unsupported {
            location: "kiln header".into(),
            detail: format!("the graph does not read back from JSON: {error}"),
        })?;
        Ok(json)
    }
}

/// Accepts versions `1..=FORMAT_VERSION`; a newer one says to upgrade kiln.
pub fn check_version(version: u32) -> Result<()> {
    match version {
        0 => Err(invalid("format_version 0 does not exist".into())),
        v if v > FORMAT_VERSION => Err(Error::Unsupported {
            location: "kiln header".into(),
            detail: format!(
                "the file is .kiln format version {v}, but this kiln {} reads versions up to \
                 {FORMAT_VERSION}; upgrade kiln to read it",
                env!("CARGO_PKG_VERSION")
            ),
        }),
        _ => Ok(()),
    }
}

/// An [`Error::InvalidModel`] located in the header.
pub(crate) fn invalid(detail: String) -> Error {
    Error::InvalidModel {
        location: "kiln header".into(),
        detail,
    }
}
