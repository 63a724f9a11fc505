//! Where a `.kiln` model came from: the SHA-256 of its source model file(s), the compression
//! recipe that made it, and the kiln version that wrote it.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// The provenance record in a `.kiln` header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The source model's file name(s), `+`-joined for a Darknet `.cfg` and its `.weights`.
    pub source_file: Option<String>,
    /// Lower-case hex SHA-256 of the source file's bytes (of the `.cfg`'s bytes followed by the
    /// `.weights`' for Darknet); `None` for a graph built in memory.
    pub source_sha256: Option<String>,
    /// The compression recipe that produced the weights, as given; `null` for a plain conversion.
    pub recipe: serde_json::Value,
    /// The kiln version that wrote the file.
    pub kiln_version: String,
}

impl Provenance {
    /// A record for a graph with no source file and no recipe, written by this kiln.
    pub fn in_memory() -> Self {
        Provenance {
            source_file: None,
            source_sha256: None,
            recipe: serde_json::Value::Null,
            kiln_version: env!("CARGO_PKG_VERSION").into(),
        }
    }

    /// A record for a model read from `sources` (hashed in order, as one byte stream) and
    /// compressed by `recipe`.
    pub fn from_sources(sources: &[&Path], recipe: serde_json::Value) -> Result<Self> {
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 20];
        for path in sources {
            let mut file = std::fs::File::open(path).map_err(|error| Error::io(path, error))?;
            loop {
                let read = file
                    .read(&mut buffer)
                    .map_err(|error| Error::io(path, error))?;
                if read == 0 {
                    break;
                }
                hasher.update(&buffer[..read]);
            }
        }
        let names: Vec<String> = sources
            .iter()
            .map(|path| {
                path.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into()
            })
            .collect();
        Ok(Provenance {
            source_file: Some(names.join("+")),
            source_sha256: Some(hex(&hasher.finalize())),
            recipe,
            kiln_version: env!("CARGO_PKG_VERSION").into(),
        })
    }
}

/// Lower-case hex digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_the_known_sha256_of_abc() {
        let path = std::env::temp_dir().join(format!("kiln-provenance-{}", std::process::id()));
        std::fs::write(&path, b"abc").unwrap();
        let provenance = Provenance::from_sources(&[&path], serde_json::Value::Null).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            provenance.source_sha256.as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    #[test]
    fn a_missing_source_is_an_io_error() {
        let missing = Path::new("/nonexistent/model.onnx");
        let error = Provenance::from_sources(&[missing], serde_json::Value::Null).unwrap_err();
        assert!(matches!(error, Error::Io { .. }), "{error}");
    }
}
