//! Loading a detection model for [`crate::vision::Detector`]: a Darknet `.cfg` (its `.weights`
//! beside it, same stem), a `.kiln` or an ONNX file, the input it takes, the heads it declares
//! (Darknet `[yolo]` layers; ONNX and `.kiln` heads are found later from the output shapes) and
//! its class names.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::load_kiln;
use crate::graph::{Dim, Graph};
use crate::import::darknet::load_darknet;
use crate::import::onnx::load_onnx;
use crate::import::ModelKind;
use crate::vision::head::{GridDecode, GridLayout, HeadKind};
use crate::vision::ClassNames;

/// The input side of a model whose input size is not fixed by the file.
pub const DEFAULT_INPUT_SIZE: u32 = 640;

/// How to load a detection model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelOptions {
    /// The input `[width, height]`: required for nothing, overrides a Darknet `[net]` size and
    /// fills an ONNX input's symbolic extents (else [`DEFAULT_INPUT_SIZE`]).
    pub input_size: Option<[u32; 2]>,
    /// A names file to use instead of the model's own names.
    pub names_file: Option<PathBuf>,
}

/// A model ready to plan: the graph, its image input and what is known about its heads.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectionModel {
    /// The network.
    pub graph: Graph,
    /// The graph input that takes the `[1, 3, height, width]` image.
    pub input_name: String,
    /// The input `[width, height]`.
    pub input_size: [u32; 2],
    /// Heads declared by the file (Darknet `[yolo]`): output name and kind. Empty for ONNX,
    /// whose heads come from the output shapes.
    pub declared_heads: Vec<(String, HeadKind)>,
    /// The class names (empty when none were found: classes print as `class N`).
    pub names: ClassNames,
}

/// Loads `path`: a `.cfg` reads Darknet (with the `.weights` of the same stem beside it), a
/// `.kiln` kiln's format, any other extension ONNX.
pub fn load_detection_model(path: &Path, options: &ModelOptions) -> Result<DetectionModel> {
    let is_darknet = path.extension().is_some_and(|ext| ext == "cfg");
    let mut model = if is_darknet {
        load_darknet_model(path, options)?
    } else {
        load_onnx_model(path, options)?
    };
    model.names = find_names(path, &model.graph, options)?;
    Ok(model)
}

fn load_darknet_model(cfg: &Path, options: &ModelOptions) -> Result<DetectionModel> {
    let weights = cfg.with_extension("weights");
    if !weights.is_file() {
        return Err(Error::Io {
            path: weights.display().to_string(),
            detail: format!(
                "the Darknet weights for {} are missing (expected beside the .cfg, same stem)",
                cfg.display()
            ),
        });
    }
    let darknet = load_darknet(cfg, &weights)?;
    let [_, height, width] = darknet.input;
    let input_size = options
        .input_size
        .unwrap_or([to_u32(width)?, to_u32(height)?]);
    let declared_heads = darknet
        .heads
        .into_iter()
        .map(|head| {
            let stride = head.stride as f32;
            let kind = HeadKind::AnchorGrid {
                anchors: head.anchors,
                stride: [stride, stride],
                decode: GridDecode::Darknet {
                    scale_x_y: head.scale_x_y,
                },
                layout: GridLayout::ChannelsFirst,
            };
            (head.output, kind)
        })
        .collect();
    let input_name = image_input(&darknet.graph)?.0;
    Ok(DetectionModel {
        graph: darknet.graph,
        input_name,
        input_size,
        declared_heads,
        names: ClassNames::default(),
    })
}

fn to_u32(extent: usize) -> Result<u32> {
    u32::try_from(extent).map_err(|_| Error::InvalidArgument {
        op: "input size",
        detail: format!("{extent} pixels"),
    })
}

/// The first graph input of rank 4 with 3 (or unknown) channels, and its fixed `[width, height]`
/// if both are fixed.
fn image_input(graph: &Graph) -> Result<(String, Option<[u32; 2]>)> {
    for input in &graph.inputs {
        let Some(shape) = &input.shape else {
            return Ok((input.name.clone(), None));
        };
        let fixed = |dim: &Dim| match dim {
            Dim::Fixed(extent) => Some(*extent),
            Dim::Symbol(_) => None,
        };
        if shape.len() == 4 && fixed(&shape[1]).is_none_or(|channels| channels == 3) {
            let size = match (fixed(&shape[3]), fixed(&shape[2])) {
                (Some(width), Some(height)) => Some([to_u32(width)?, to_u32(height)?]),
                _ => None,
            };
            return Ok((input.name.clone(), size));
        }
    }
    Err(Error::Unsupported {
        location: format!("model '{}'", graph.name),
        detail: "no graph input takes an image [N, 3, H, W]".into(),
    })
}

/// An ONNX or `.kiln` model, whose heads are found from the output shapes.
fn load_onnx_model(path: &Path, options: &ModelOptions) -> Result<DetectionModel> {
    let graph = match ModelKind::of(path) {
        Ok(ModelKind::Kiln) => load_kiln(path)?.graph,
        _ => load_onnx(path)?,
    };
    let (input_name, fixed_size) = image_input(&graph)?;
    let input_size = options
        .input_size
        .or(fixed_size)
        .unwrap_or([DEFAULT_INPUT_SIZE; 2]);
    Ok(DetectionModel {
        graph,
        input_name,
        input_size,
        declared_heads: Vec::new(),
        names: ClassNames::default(),
    })
}

/// The names file given, else the model's `names` metadata, else `<stem>.names` or
/// `coco.names` beside the model, else none.
fn find_names(path: &Path, graph: &Graph, options: &ModelOptions) -> Result<ClassNames> {
    if let Some(file) = &options.names_file {
        return ClassNames::from_file(file);
    }
    if let Some(text) = graph.metadata.get("names") {
        return ClassNames::parse_metadata(text);
    }
    let beside = [
        path.with_extension("names"),
        path.with_file_name("coco.names"),
    ];
    match beside.iter().find(|candidate| candidate.is_file()) {
        Some(file) => ClassNames::from_file(file),
        None => Ok(ClassNames::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn darknet_cfg_without_weights_names_the_missing_file() {
        let folder = std::env::temp_dir().join(format!("kiln-model-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let cfg = folder.join("tiny.cfg");
        std::fs::write(&cfg, "[net]\nwidth=32\nheight=32\nchannels=3\n").unwrap();
        let error = load_detection_model(&cfg, &ModelOptions::default()).unwrap_err();
        std::fs::remove_dir_all(&folder).unwrap();
        match error {
            Error::Io { path, detail } => {
                assert!(path.ends_with("tiny.weights"), "{path}");
                assert!(detail.contains("weights"), "{detail}");
            }
            other => panic!("expected an Io error, got {other}"),
        }
    }

    #[test]
    fn names_metadata_labels_the_classes() {
        let mut graph = Graph::default();
        graph
            .metadata
            .insert("names".into(), "{0: 'person', 1: 'bicycle'}".into());
        let names = find_names(Path::new("none.onnx"), &graph, &ModelOptions::default()).unwrap();
        assert_eq!(names.name(1), "bicycle");
    }
}
