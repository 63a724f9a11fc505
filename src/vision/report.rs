//! The detections as a JSON list: one object per box with its class name and index, score, and
//! corners in original-image pixels.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::vision::{BoundingBox, ClassNames, Detection};

/// One detection as written to JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DetectionRecord {
    /// The class name.
    pub class: String,
    /// The class index.
    pub class_id: usize,
    /// The score.
    pub score: f32,
    /// The box, `x1, y1, x2, y2` in pixels of the original image.
    #[serde(rename = "box")]
    pub bbox: BoundingBox,
}

/// The records of `detections`, in order.
pub fn detection_records(detections: &[Detection], names: &ClassNames) -> Vec<DetectionRecord> {
    detections
        .iter()
        .map(|detection| DetectionRecord {
            class: names.name(detection.class),
            class_id: detection.class,
            score: detection.score,
            bbox: detection.bbox,
        })
        .collect()
}

/// `detections` as a pretty-printed JSON list.
pub fn detections_json(detections: &[Detection], names: &ClassNames) -> Result<String> {
    serde_json::to_string_pretty(&detection_records(detections, names)).map_err(|error| {
        Error::InvalidArgument {
            op: "detections JSON",
            detail: error.to_string(),
        }
    })
}

/// Writes [`detections_json`] to `path`.
pub fn write_detections_json(
    path: &Path,
    detections: &[Detection],
    names: &ClassNames,
) -> Result<()> {
    std::fs::write(path, detections_json(detections, names)?)
        .map_err(|error| Error::io(path, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_names_the_class_and_its_box() {
        let names = ClassNames {
            names: vec!["person".into()],
        };
        let detection = Detection {
            class: 0,
            score: 0.5,
            bbox: BoundingBox {
                x1: 1.0,
                y1: 2.0,
                x2: 3.0,
                y2: 4.0,
            },
            candidate: 9,
        };
        let json: serde_json::Value =
            serde_json::from_str(&detections_json(&[detection], &names).unwrap()).unwrap();
        assert_eq!(json[0]["class"], "person");
        assert_eq!(json[0]["box"]["x2"], 3.0);
    }
}
