//! kiln's integer graphs back to standard ONNX, run by onnxruntime: each model quantized by
//! onnxruntime is lowered by kiln (its convs become QLinearConv), exported
//! (`to_onnx_bytes`: the integer ops go out as DequantizeLinear → op → QuantizeLinear) and run by
//! onnxruntime (`scripts/run_onnxruntime.py`, in the venv scripts/make_quantized_models.sh makes),
//! against kiln's own integer run of the lowered graph and against onnxruntime's run of the
//! original file.

use std::path::{Path, PathBuf};
use std::process::Command;

use kiln::device::Gpu;
use kiln::graph::passes::{optimize_with, PassOptions};
use kiln::graph::Op;
use kiln::import::onnx::{load_onnx, to_onnx_bytes};
use kiln::io::npy::read_npy;
use kiln::runtime::Backend;

use crate::common::run_lowered;
use crate::onnxruntime_models::{manifest, max_steps, models_dir, requantization_depth};

/// The venv's python, next to the models it made.
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

/// onnxruntime's first output of `model` on `input` (a .npy file) fed as `input_name`.
fn run_onnxruntime(model: &Path, input_name: &str, input: &Path, out_dir: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/run_onnxruntime.py");
    let status = Command::new(python())
        .arg(script)
        .arg(model)
        .arg(out_dir)
        .arg(format!("{input_name}={}", input.display()))
        .status()
        .expect("python runs");
    assert!(
        status.success(),
        "onnxruntime failed on {}",
        model.display()
    );
    out_dir.to_path_buf()
}

#[test]
fn onnxruntime_runs_kilns_integer_graphs_exported_as_qdq() {
    let Some(dir) = models_dir() else {
        return;
    };
    let gpu = Gpu::from_env().expect("a GPU adapter (lavapipe in CI)");
    let work = std::env::temp_dir().join(format!("kiln-integer-export-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let mut checked = 0;
    for entry in manifest(&dir)
        .iter()
        .filter(|entry| entry.output_step > 0.0)
    {
        let source = dir.join(format!("{}.onnx", entry.name));
        let graph = load_onnx(&source).expect("the model loads");
        let input_path = dir.join(format!("{}.input.npy", entry.name));
        let input = read_npy(&input_path).unwrap();
        let shapes = [(entry.input.clone(), input.shape().to_vec())];
        let mut lowered = graph.clone();
        optimize_with(&mut lowered, &shapes, &PassOptions { lower_qdq: true }).unwrap();
        let integer_convs = (lowered.nodes.iter())
            .filter(|node| matches!(node.op, Op::QLinearConv(_)))
            .count();
        assert_eq!(
            integer_convs, entry.convs,
            "{}: every conv lowered",
            entry.name
        );
        let exported = work.join(format!("{}.kiln-export.onnx", entry.name));
        std::fs::write(&exported, to_onnx_bytes(&lowered).expect("the export")).unwrap();

        let out = work.join(&entry.name);
        run_onnxruntime(&exported, &entry.input, &input_path, &out);
        let output_name = &lowered.outputs[0].name;
        let onnxruntime_export = read_npy(&out.join(format!("{output_name}.npy"))).unwrap();
        let onnxruntime_source = read_npy(&dir.join(format!("{}.output.npy", entry.name))).unwrap();
        let inputs = [(entry.input.clone(), input)];
        let (kiln_integer, _) = run_lowered(&graph, &inputs, Backend::Gpu(&gpu));
        let step = entry.output_step;
        let versus_kiln = max_steps(&onnxruntime_export, &kiln_integer[0], step);
        let versus_source = max_steps(&onnxruntime_export, &onnxruntime_source, step);
        // As in `onnxruntime_quantized_models_run_in_integers_and_agree`: two engines may round a
        // value near a half step apart at each requantization on its path.
        let bound = requantization_depth(&graph) as f64;
        eprintln!(
            "{}: onnxruntime on kiln's export vs kiln's integer run {versus_kiln} steps, vs \
             onnxruntime on the source file {versus_source} steps (bound {bound})",
            entry.name
        );
        assert!(
            versus_kiln <= bound,
            "{}: {versus_kiln} > {bound}",
            entry.name
        );
        assert!(
            versus_source <= bound,
            "{}: {versus_source} > {bound}",
            entry.name
        );
        checked += 1;
    }
    std::fs::remove_dir_all(&work).ok();
    assert_eq!(checked, 8, "two CNNs × per-tensor/per-channel × uint8/int8");
}
