//! Model files to [`crate::graph::Graph`]: ONNX (and back out to ONNX), Darknet `.cfg` +
//! `.weights`, and kiln's own `.kiln` ([`crate::format`]); [`load_model`] picks by extension.

pub mod darknet;
pub mod onnx;

use crate::error::{Error, Result};
use crate::graph::Graph;
use std::path::{Path, PathBuf};

/// The model file kinds [`load_model`] reads, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// `.onnx`.
    Onnx,
    /// `.kiln`.
    Kiln,
    /// A Darknet `.cfg`, its `.weights` beside it with the same stem.
    Darknet,
}

impl ModelKind {
    /// The kind of `path` by its extension (case-insensitive); any other is
    /// [`Error::Unsupported`].
    pub fn of(path: &Path) -> Result<Self> {
        let extension = path
            .extension()
            .map(|ext| ext.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("onnx") => Ok(ModelKind::Onnx),
            Some("kiln") => Ok(ModelKind::Kiln),
            Some("cfg") => Ok(ModelKind::Darknet),
            _ => Err(Error::Unsupported {
                location: path.display().to_string(),
                detail: "kiln reads models named .onnx, .kiln or .cfg (Darknet, with its .weights \
                         beside it)"
                    .into(),
            }),
        }
    }
}

/// The `.weights` file of a Darknet `.cfg`: same folder and stem; an [`Error::Io`] if missing.
pub fn darknet_weights(cfg: &Path) -> Result<PathBuf> {
    let weights = cfg.with_extension("weights");
    if weights.is_file() {
        return Ok(weights);
    }
    Err(Error::Io {
        path: weights.display().to_string(),
        detail: format!(
            "the Darknet weights for {} are missing (expected beside the .cfg, same stem)",
            cfg.display()
        ),
    })
}

/// Reads the model at `path` by its extension: `.onnx`, `.kiln`, or a Darknet `.cfg` (its
/// `.weights` beside it).
///
/// ```no_run
/// let graph = kiln::import::load_model(std::path::Path::new("yolov3-tiny.kiln"))?;
/// println!("{} nodes", graph.nodes.len());
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn load_model(path: &Path) -> Result<Graph> {
    match ModelKind::of(path)? {
        ModelKind::Onnx => onnx::load_onnx(path),
        ModelKind::Kiln => Ok(crate::format::load_kiln(path)?.graph),
        ModelKind::Darknet => Ok(darknet::load_darknet(path, &darknet_weights(path)?)?.graph),
    }
}
