//! kiln's caps on what input may make it allocate or read, in one place. A model, a tensor file
//! or a command line can declare sizes far beyond what the machine holds (`[1e6, 1e6]`, a sparse
//! 1 TB external-data file, `/dev/zero` as a model); every such size is computed with checked
//! arithmetic and compared with a cap here *before* anything is allocated or read, so the result
//! is an [`Error::OverLimit`] naming the tensor or file, not an abort, a hang or a swapped-out
//! machine.
//!
//! | cap | default | override |
//! |-----|---------|----------|
//! | one tensor read from a file or made by kiln | [`DEFAULT_MAX_TENSOR_BYTES`] (4 GiB) | `KILN_MAX_TENSOR_BYTES` |
//! | one random input (`kiln run`, `kiln bench`) | [`DEFAULT_MAX_RANDOM_INPUT_BYTES`] (1 GiB) | `KILN_MAX_RANDOM_INPUT_BYTES` |
//! | a protobuf file (`.onnx`, `.pb`) | [`MAX_PROTOBUF_BYTES`] (2 GiB, protobuf's own limit) | none |
//! | a `--dim` value | [`MAX_DIM_VALUE`] (2³⁰) | none |
//! | a `--batch` size | [`MAX_BATCH`] (65536) | none |
//!
//! Files are read only when they are regular files: a FIFO, a socket or a device (`/dev/zero`)
//! is an error at once, so a read can neither block forever nor run without end.
//!
//! ```
//! use kiln::{limits, tensor::DType};
//! assert_eq!(limits::tensor_bytes(&[2, 3], DType::F32, "tensor 'x'")?, 24);
//! assert!(limits::tensor_bytes(&[1 << 40, 1 << 40], DType::F32, "tensor 'x'").is_err());
//! # Ok::<(), kiln::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::tensor::DType;
use std::io::Read;
use std::path::Path;

/// The default cap on one tensor's bytes (4 GiB): a file or model may declare no larger tensor.
pub const DEFAULT_MAX_TENSOR_BYTES: u64 = 4 << 30;
/// The environment variable that overrides [`DEFAULT_MAX_TENSOR_BYTES`] (a byte count).
pub const MAX_TENSOR_BYTES_ENV: &str = "KILN_MAX_TENSOR_BYTES";
/// The default cap on one random input's bytes (1 GiB); a larger input must come from a file.
pub const DEFAULT_MAX_RANDOM_INPUT_BYTES: u64 = 1 << 30;
/// The environment variable that overrides [`DEFAULT_MAX_RANDOM_INPUT_BYTES`] (a byte count).
pub const MAX_RANDOM_INPUT_BYTES_ENV: &str = "KILN_MAX_RANDOM_INPUT_BYTES";
/// The largest protobuf message (2 GiB): protobuf's 32-bit sizes cannot describe more, so a
/// longer `.onnx` or `.pb` file is malformed and is refused before it is read.
pub const MAX_PROTOBUF_BYTES: u64 = 2 << 30;
/// The largest value `--dim NAME=VALUE` may bind (2³⁰, the CPU backend's element cap).
pub const MAX_DIM_VALUE: usize = 1 << 30;
/// The largest batch size `kiln bench --batch` accepts.
pub const MAX_BATCH: usize = 1 << 16;

/// The cap on one tensor's bytes: `KILN_MAX_TENSOR_BYTES` when set, else
/// [`DEFAULT_MAX_TENSOR_BYTES`]. A value that is no byte count is an error naming the variable.
pub fn max_tensor_bytes() -> Result<u64> {
    env_bytes(MAX_TENSOR_BYTES_ENV, DEFAULT_MAX_TENSOR_BYTES)
}

/// The cap on one random input's bytes: `KILN_MAX_RANDOM_INPUT_BYTES` when set, else
/// [`DEFAULT_MAX_RANDOM_INPUT_BYTES`]; never above [`max_tensor_bytes`].
pub fn max_random_input_bytes() -> Result<u64> {
    let random = env_bytes(MAX_RANDOM_INPUT_BYTES_ENV, DEFAULT_MAX_RANDOM_INPUT_BYTES)?;
    Ok(random.min(max_tensor_bytes()?))
}

fn env_bytes(variable: &'static str, default: u64) -> Result<u64> {
    match std::env::var(variable) {
        Ok(text) => text.trim().parse().map_err(|_| Error::InvalidArgument {
            op: variable,
            detail: format!("'{text}' is not a byte count (a non-negative integer)"),
        }),
        Err(_) => Ok(default),
    }
}

/// The bytes of a `dtype` tensor of `shape` (`what` names it: `input 'x'`), checked against
/// [`max_tensor_bytes`] with overflow-free arithmetic before anything is allocated.
pub fn tensor_bytes(shape: &[usize], dtype: DType, what: &str) -> Result<usize> {
    capped_bytes(
        shape,
        dtype,
        what,
        max_tensor_bytes()?,
        MAX_TENSOR_BYTES_ENV,
    )
}

/// The bytes of a random input of `shape` (`what` names it), checked against
/// [`max_random_input_bytes`].
pub fn random_input_bytes(shape: &[usize], dtype: DType, what: &str) -> Result<usize> {
    let limit = max_random_input_bytes()?;
    capped_bytes(shape, dtype, what, limit, MAX_RANDOM_INPUT_BYTES_ENV)
}

fn capped_bytes(
    shape: &[usize],
    dtype: DType,
    what: &str,
    limit: u64,
    setting: &str,
) -> Result<usize> {
    let bytes = shape
        .iter()
        .try_fold(dtype.size_bytes() as u128, |acc, &extent| {
            acc.checked_mul(extent as u128)
        });
    match bytes {
        Some(bytes) if bytes <= u128::from(limit) => Ok(bytes as usize),
        _ => Err(Error::OverLimit {
            what: format!("{what} ({dtype} {shape:?})"),
            requested: bytes.map_or("more than 2^128 bytes".into(), |b| format!("{b} bytes")),
            limit,
            setting: setting.to_string(),
        }),
    }
}

/// Fails when `batch` (a `--batch` size) exceeds [`MAX_BATCH`].
pub fn check_batch(batch: usize) -> Result<()> {
    if batch > MAX_BATCH {
        return Err(Error::InvalidArgument {
            op: "--batch",
            detail: format!("batch size {batch} exceeds kiln's limit of {MAX_BATCH}"),
        });
    }
    Ok(())
}

/// Fails unless `path` is a regular file (symlinks followed): a FIFO would block the read
/// forever and a device such as `/dev/zero` never ends. `what` names the file's role.
pub fn check_regular_file(path: &Path, what: &str) -> Result<std::fs::Metadata> {
    let metadata = std::fs::metadata(path).map_err(|error| Error::Io {
        path: path.display().to_string(),
        detail: format!("{what}: {error}"),
    })?;
    if !metadata.is_file() {
        return Err(Error::Io {
            path: path.display().to_string(),
            detail: format!("{what} is not a regular file (a pipe, socket, device or folder)"),
        });
    }
    Ok(metadata)
}

/// The whole of the regular file at `path`, refused before reading when it is longer than
/// `limit` bytes (`setting` names the cap in the error) or is no regular file.
pub fn read_file(path: &Path, what: &str, limit: u64, setting: &str) -> Result<Vec<u8>> {
    let length = check_regular_file(path, what)?.len();
    let too_long = |requested: String| Error::OverLimit {
        what: format!("{what} '{}'", path.display()),
        requested,
        limit,
        setting: setting.to_string(),
    };
    if length > limit {
        return Err(too_long(format!("{length} bytes")));
    }
    let file = std::fs::File::open(path).map_err(|error| Error::io(path, error))?;
    let mut bytes = Vec::with_capacity(length as usize);
    // `take` bounds the read even if the file grows after its length was read.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| Error::io(path, error))?;
    if bytes.len() as u64 > limit {
        return Err(too_long("more bytes".into()));
    }
    Ok(bytes)
}

/// A protobuf file (`.onnx`, `.pb`) read whole, at most [`MAX_PROTOBUF_BYTES`].
pub fn read_protobuf_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    read_file(
        path,
        what,
        MAX_PROTOBUF_BYTES,
        "protobuf's 2 GiB message limit",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kiln-limits-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn tensor_sizes_are_checked_without_overflow() {
        assert_eq!(tensor_bytes(&[], DType::I64, "t").unwrap(), 8);
        assert_eq!(tensor_bytes(&[0, usize::MAX], DType::F32, "t").unwrap(), 0);
        let huge = tensor_bytes(&[1_000_000, 1_000_000], DType::F32, "input 'x'").unwrap_err();
        let message = huge.to_string();
        assert!(message.contains("input 'x'"), "{message}");
        assert!(message.contains("4000000000000 bytes"), "{message}");
        assert!(message.contains(MAX_TENSOR_BYTES_ENV), "{message}");
        let overflow = tensor_bytes(&[usize::MAX; 3], DType::F32, "t").unwrap_err();
        assert!(overflow.to_string().contains("2^128"), "{overflow}");
        let random = random_input_bytes(&[65536, 65536], DType::F32, "input 'x'").unwrap_err();
        assert!(
            random.to_string().contains(MAX_RANDOM_INPUT_BYTES_ENV),
            "{random}"
        );
    }

    #[test]
    fn batches_are_capped() {
        assert!(check_batch(MAX_BATCH).is_ok());
        let error = check_batch(1_000_000_000).unwrap_err();
        assert!(error.to_string().contains("1000000000"), "{error}");
    }

    #[test]
    fn oversized_and_irregular_files_are_refused_before_reading() {
        let dir = temp_dir("files");
        let small = dir.join("small.bin");
        std::fs::write(&small, [7u8; 10]).unwrap();
        assert_eq!(
            read_file(&small, "model", 10, "cap").unwrap(),
            vec![7u8; 10]
        );
        let error = read_file(&small, "model", 9, "cap").unwrap_err();
        assert!(matches!(error, Error::OverLimit { .. }), "{error}");
        // A sparse file claims 3 GiB but takes no disk; only its length is read.
        let sparse = dir.join("sparse.onnx");
        std::fs::File::create(&sparse)
            .unwrap()
            .set_len(3 << 30)
            .unwrap();
        let error = read_protobuf_file(&sparse, "model").unwrap_err();
        assert!(error.to_string().contains("2 GiB"), "{error}");
        let folder = read_file(&dir, "model", 10, "cap").unwrap_err();
        assert!(
            folder.to_string().contains("not a regular file"),
            "{folder}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_not_read() {
        let error = read_protobuf_file(Path::new("/dev/zero"), "model").unwrap_err();
        assert!(error.to_string().contains("/dev/zero"), "{error}");
        assert!(error.to_string().contains("not a regular file"), "{error}");
    }
}
