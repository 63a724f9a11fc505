//! onnxruntime, called from the tests: `scripts/run_onnxruntime.py` in the venv that
//! scripts/make_quantized_models.sh makes beside the models, on inputs written as .npy.

use std::path::{Path, PathBuf};
use std::process::Command;

use kiln::graph::Graph;
use kiln::import::onnx::to_onnx_bytes;
use kiln::io::npy::{read_npy, write_npy};
use kiln::tensor::HostTensor;

/// The venv's python.
fn python() -> PathBuf {
    let python =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cache/ort-venv-quantize/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/make_quantized_models.sh makes it with the models",
        python.display()
    );
    python
}

/// A fresh folder under the system's temporary folder, removed when dropped.
pub struct WorkDir(pub PathBuf);

impl WorkDir {
    /// `<tmp>/kiln-<label>-<pid>`, empty.
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kiln-{label}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).expect("the temporary folder is writable");
        WorkDir(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// `graph` exported by kiln (`to_onnx_bytes`) into `dir` as `<name>.onnx`, then run by
/// onnxruntime's CPU provider on `inputs`: its outputs in the graph's output order. The script
/// first checks that the file holds standard ONNX only (the default domain, opset ≥ 13) and
/// fails otherwise.
pub fn run_kiln_export(
    graph: &Graph,
    dir: &Path,
    name: &str,
    inputs: &[(String, HostTensor)],
) -> Vec<HostTensor> {
    let model = dir.join(format!("{name}.onnx"));
    std::fs::write(
        &model,
        to_onnx_bytes(graph).expect("kiln exports the graph"),
    )
    .unwrap();
    let out = dir.join(format!("{name}.onnxruntime"));
    let mut command = Command::new(python());
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/run_onnxruntime.py"))
        .arg("--standard")
        .arg(&model)
        .arg(&out);
    for (input_name, tensor) in inputs {
        let path = dir.join(format!("{name}.{input_name}.npy"));
        write_npy(&path, tensor).unwrap();
        command.arg(format!("{input_name}={}", path.display()));
    }
    let status = command.status().expect("python runs");
    assert!(
        status.success(),
        "onnxruntime failed on {}",
        model.display()
    );
    (graph.outputs.iter())
        .map(|output| read_npy(&out.join(format!("{}.npy", output.name))).unwrap())
        .collect()
}
