//! Tensor data stored outside the `.onnx` file (`data_location: EXTERNAL`): a file named by a
//! relative `location`, read from `offset` for `length` bytes. The location must stay inside the
//! model's directory (no absolute paths, no `..`, no symlink out), the range must lie inside the
//! file, and all external tensors together may not read more bytes than their files hold. The
//! file must be a regular one (a FIFO would block forever), and the range is checked against the
//! tensor's dims (whose size [`crate::limits`] caps) and the file's length before a byte is read,
//! so a sparse file of a terabyte costs nothing.

use super::proto::StringStringEntryProto;
use crate::error::{Error, Result};
use crate::limits;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// Reads external tensor data relative to a model's directory, keeping a running byte budget.
pub(crate) struct ExternalData<'a> {
    base_dir: Option<&'a Path>,
    bytes_read: u64,
    file_lengths: BTreeMap<PathBuf, u64>,
}

/// The parsed `external_data` entries of one tensor.
struct Reference<'e> {
    location: &'e str,
    offset: u64,
    length: Option<u64>,
}

impl<'a> ExternalData<'a> {
    /// A reader for a model in `base_dir`; `None` when the model came from bytes alone, in
    /// which case every external tensor is an error.
    pub(crate) fn new(base_dir: Option<&'a Path>) -> Self {
        ExternalData {
            base_dir,
            bytes_read: 0,
            file_lengths: BTreeMap::new(),
        }
    }

    /// The `byte_len` bytes `entries` point at; `tensor` names the tensor in errors.
    pub(crate) fn read(
        &mut self,
        entries: &[StringStringEntryProto],
        byte_len: usize,
        tensor: &str,
    ) -> Result<Vec<u8>> {
        let reference = parse_entries(entries, tensor)?;
        let base_dir = self.base_dir.ok_or_else(|| {
            invalid(tensor, "has external data, but the model was given as bytes without its directory (use load_onnx or pass base_dir)".into())
        })?;
        let path = resolve(base_dir, reference.location, tensor)?;
        let byte_len = byte_len as u64;
        if reference.length.is_some_and(|length| length != byte_len) {
            return Err(invalid(
                tensor,
                format!(
                    "external length {} differs from the {byte_len} bytes its dims need",
                    reference.length.unwrap_or(0)
                ),
            ));
        }
        let what = format!("the external data of {tensor}");
        // Checked before opening: opening a FIFO would block until a writer appears.
        let file_len = limits::check_regular_file(&path, &what)?.len();
        let end = reference.offset.checked_add(byte_len);
        if end.is_none_or(|end| end > file_len) {
            return Err(invalid(
                tensor,
                format!(
                    "external range {}..{} (+{byte_len} bytes) lies past the end of '{}' ({file_len} bytes)",
                    reference.offset,
                    reference.offset.saturating_add(byte_len),
                    reference.location
                ),
            ));
        }
        self.file_lengths.insert(path.clone(), file_len);
        self.bytes_read += byte_len;
        let budget: u64 = self.file_lengths.values().sum();
        if self.bytes_read > budget {
            return Err(invalid(
                tensor,
                format!("external tensors read {} bytes, more than their files hold ({budget}): they overlap", self.bytes_read),
            ));
        }
        let mut file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let mut bytes = vec![0u8; byte_len as usize];
        file.seek(SeekFrom::Start(reference.offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| Error::io(&path, e))?;
        Ok(bytes)
    }
}

/// The `location`, `offset` and `length` keys (others, such as `checksum`, are ignored).
fn parse_entries<'e>(entries: &'e [StringStringEntryProto], tensor: &str) -> Result<Reference<'e>> {
    let mut location = None;
    let mut offset = 0;
    let mut length = None;
    for entry in entries {
        let number = || {
            entry.value.parse::<u64>().map_err(|_| {
                invalid(
                    tensor,
                    format!(
                        "external_data '{}' is '{}', not a byte count",
                        entry.key, entry.value
                    ),
                )
            })
        };
        match entry.key.as_str() {
            "location" => location = Some(entry.value.as_str()),
            "offset" => offset = number()?,
            "length" => length = Some(number()?),
            _ => {}
        }
    }
    let location = location
        .filter(|location| !location.is_empty())
        .ok_or_else(|| invalid(tensor, "has external data without a 'location'".into()))?;
    Ok(Reference {
        location,
        offset,
        length,
    })
}

/// `location` under `base_dir`, refused if it is absolute, climbs out with `..`, or resolves
/// (through symlinks) to a file outside `base_dir`.
fn resolve(base_dir: &Path, location: &str, tensor: &str) -> Result<PathBuf> {
    let relative = Path::new(location);
    let plain = relative
        .components()
        .all(|component| matches!(component, Component::Normal(_) | Component::CurDir));
    if !plain {
        return Err(invalid(
            tensor,
            format!("external location '{location}' is not a relative path inside the model's directory"),
        ));
    }
    let joined = base_dir.join(relative);
    let canonical_base = base_dir
        .canonicalize()
        .map_err(|e| Error::io(base_dir, e))?;
    let canonical = joined.canonicalize().map_err(|error| Error::Io {
        path: joined.display().to_string(),
        detail: format!("the external data of {tensor}: {error}"),
    })?;
    if !canonical.starts_with(&canonical_base) {
        return Err(invalid(
            tensor,
            format!("external location '{location}' resolves outside the model's directory"),
        ));
    }
    Ok(canonical)
}

fn invalid(tensor: &str, detail: String) -> Error {
    Error::InvalidModel {
        location: tensor.to_string(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::onnx::testing::TempDir;

    fn entries(pairs: &[(&str, &str)]) -> Vec<StringStringEntryProto> {
        pairs
            .iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.to_string(),
                value: value.to_string(),
            })
            .collect()
    }

    #[test]
    fn reads_ranges_inside_the_file_only() {
        let dir = TempDir::new("external-range");
        std::fs::write(dir.0.join("w.bin"), (0u8..16).collect::<Vec<_>>()).unwrap();
        let mut reader = ExternalData::new(Some(&dir.0));
        let bytes = reader
            .read(
                &entries(&[("location", "w.bin"), ("offset", "4"), ("length", "8")]),
                8,
                "t",
            )
            .unwrap();
        assert_eq!(bytes, (4u8..12).collect::<Vec<_>>());
        let past_end = reader.read(&entries(&[("location", "w.bin"), ("offset", "12")]), 8, "t");
        assert!(past_end.unwrap_err().to_string().contains("past the end"));
        let huge_offset = reader.read(
            &entries(&[("location", "w.bin"), ("offset", "18446744073709551615")]),
            8,
            "t",
        );
        assert!(huge_offset.is_err());
        let wrong_length = reader.read(&entries(&[("location", "w.bin"), ("length", "4")]), 8, "t");
        assert!(wrong_length.is_err());
    }

    #[test]
    fn escaping_locations_are_rejected() {
        let dir = TempDir::new("external-escape");
        std::fs::create_dir_all(dir.0.join("model")).unwrap();
        std::fs::write(dir.0.join("secret.bin"), [0u8; 8]).unwrap();
        let model_dir = dir.0.join("model");
        let mut reader = ExternalData::new(Some(&model_dir));
        for location in ["../secret.bin", "/etc/passwd", "sub/../../secret.bin"] {
            let error = reader
                .read(&entries(&[("location", location)]), 8, "t")
                .unwrap_err();
            assert!(
                error.to_string().contains("inside the model's directory"),
                "{location}: {error}"
            );
        }
    }

    #[test]
    fn overlapping_tensors_exhaust_the_budget() {
        let dir = TempDir::new("external-budget");
        std::fs::write(dir.0.join("w.bin"), [0u8; 8]).unwrap();
        let mut reader = ExternalData::new(Some(&dir.0));
        let whole = entries(&[("location", "w.bin")]);
        reader.read(&whole, 8, "t").unwrap();
        assert!(reader
            .read(&whole, 8, "t")
            .unwrap_err()
            .to_string()
            .contains("overlap"));
    }

    #[test]
    fn missing_files_name_the_tensor() {
        let dir = TempDir::new("external-missing");
        let error = ExternalData::new(Some(&dir.0))
            .read(&entries(&[("location", "gone.bin")]), 4, "initializer 'w'")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("gone.bin") && error.contains("initializer 'w'"),
            "{error}"
        );
    }

    #[test]
    fn sparse_files_are_checked_against_the_dims_not_read() {
        let dir = TempDir::new("external-sparse");
        // 8 GiB that take no disk: a read of them would take a minute and 8 GiB of memory.
        let sparse = File::create(dir.0.join("big.bin")).unwrap();
        sparse.set_len(8 << 30).unwrap();
        let mut reader = ExternalData::new(Some(&dir.0));
        let short = reader
            .read(
                &entries(&[("location", "big.bin"), ("length", "16")]),
                8,
                "t",
            )
            .unwrap_err();
        assert!(short.to_string().contains("differs"), "{short}");
        let tail = reader
            .read(
                &entries(&[("location", "big.bin"), ("offset", "8589934590")]),
                8,
                "t",
            )
            .unwrap_err();
        assert!(tail.to_string().contains("past the end"), "{tail}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_an_error_not_a_hang() {
        let dir = TempDir::new("external-fifo");
        let fifo = dir.0.join("w.bin");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|status| status.success()) {
            eprintln!("skipped: mkfifo is not available");
            return;
        }
        let error = ExternalData::new(Some(&dir.0))
            .read(&entries(&[("location", "w.bin")]), 4, "initializer 'w'")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("not a regular file") && error.contains("initializer 'w'"),
            "{error}"
        );
    }

    #[test]
    fn bytes_without_a_directory_cannot_use_external_data() {
        let error = ExternalData::new(None).read(&entries(&[("location", "w.bin")]), 4, "t");
        assert!(error
            .unwrap_err()
            .to_string()
            .contains("without its directory"));
    }
}
