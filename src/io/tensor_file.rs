//! One tensor from a file chosen by its extension: `.npy` (numpy) or `.pb` (a serialized ONNX
//! `TensorProto`, as the ONNX test data sets store their inputs and outputs).

use std::path::Path;

use crate::error::{Error, Result};
use crate::import::onnx::parse_tensor_proto;
use crate::io::npy::read_npy;
use crate::tensor::HostTensor;

/// Reads the tensor in `path`: `.npy` or `.pb`; any other extension is an error that says so.
pub fn read_tensor_file(path: &Path) -> Result<HostTensor> {
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("npy") => read_npy(path),
        Some("pb") => {
            let bytes = crate::limits::read_protobuf_file(path, "tensor file")?;
            parse_tensor_proto(&bytes).map(|(_, tensor)| tensor)
        }
        _ => Err(Error::Io {
            path: path.display().to_string(),
            detail: "expected a .npy file (or an ONNX TensorProto .pb)".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::npy::write_npy;

    #[test]
    fn reads_npy_and_refuses_unknown_extensions() {
        let dir = std::env::temp_dir().join(format!("kiln-tensor-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tensor = HostTensor::from_i64(&[2], vec![3, -4]).unwrap();
        write_npy(&dir.join("t.npy"), &tensor).unwrap();
        assert_eq!(read_tensor_file(&dir.join("t.npy")).unwrap(), tensor);
        let error = read_tensor_file(&dir.join("t.txt")).unwrap_err();
        assert!(
            error.to_string().contains("expected a .npy file"),
            "{error}"
        );
        let missing = read_tensor_file(&dir.join("missing.pb")).unwrap_err();
        assert!(matches!(missing, Error::Io { .. }), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn links_to_devices_and_oversized_files_are_refused_unread() {
        let dir = std::env::temp_dir().join(format!("kiln-tensor-hostile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["zero.npy", "zero.pb"] {
            std::os::unix::fs::symlink("/dev/zero", dir.join(name)).unwrap();
            let error = read_tensor_file(&dir.join(name)).unwrap_err();
            assert!(
                error.to_string().contains("not a regular file"),
                "{name}: {error}"
            );
        }
        // Sparse files longer than the caps: refused by their length, no byte read.
        let long_pb = dir.join("long.pb");
        std::fs::File::create(&long_pb)
            .unwrap()
            .set_len(3 << 30)
            .unwrap();
        let error = read_tensor_file(&long_pb).unwrap_err();
        assert!(matches!(error, Error::OverLimit { .. }), "{error}");
        let long_npy = dir.join("long.npy");
        let cap = crate::limits::max_tensor_bytes().unwrap();
        std::fs::File::create(&long_npy)
            .unwrap()
            .set_len(cap + (1 << 17))
            .unwrap();
        let error = read_tensor_file(&long_npy).unwrap_err();
        assert!(error.to_string().contains("long.npy"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
