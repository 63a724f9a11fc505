//! The MatMul/Gemm QDQ lowering on a QDQ MLP written by `scripts/check_qlinear_matmul_export.py`
//! (Gemm transB with an int32 bias and a Relu, then a MatMul with per-column int8 weights and zero
//! points): it runs as two QLinearMatMul, the same bytes on the CPU and the GPU, and its export
//! (standard ONNX) runs in onnxruntime within the derived bound of kiln's output, as does the
//! QDQ model itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use kiln::device::Gpu;
use kiln::graph::passes::lower_qdq_report;
use kiln::graph::Graph;
use kiln::import::onnx::{load_onnx, save_onnx};
use kiln::io::npy::{read_npy, write_npy};
use kiln::runtime::Backend;

use crate::common::{plan_ops, run_lowered};

/// The venv with onnx and onnxruntime, or `None` (after saying why) when it is absent and not
/// required (`KILN_REQUIRE_QUANTIZED_MODELS=1`, which scripts/test.sh sets, makes it a failure).
fn python() -> Option<PathBuf> {
    let python =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cache/ort-venv-quantize/bin/python");
    if python.exists() {
        return Some(python);
    }
    let reason = format!(
        "{} is missing: scripts/make_quantized_models.sh makes it",
        python.display()
    );
    if std::env::var("KILN_REQUIRE_QUANTIZED_MODELS").as_deref() == Ok("1") {
        panic!("{reason} (KILN_REQUIRE_QUANTIZED_MODELS=1)");
    }
    eprintln!("skipping: {reason}");
    None
}

fn script(python: &Path, args: &[&str]) -> bool {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_qlinear_matmul_export.py");
    let output = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.status.success()
}

fn scalar(graph: &Graph, name: &str) -> f64 {
    graph.initializers[name].to_f64_vec()[0]
}

/// 1 + ⌈max_n gain⌉ output steps: layer 1 may round each of its outputs one step of `s1` off, which
/// moves column n of layer 2 by `s1 · w2_s[n] · Σ_k |w2[k, n] − w2_z[n]| / s2` steps, and layer 2's
/// own rounding adds one.
fn derived_bound(graph: &Graph) -> f64 {
    let w2 = graph.initializers["w2"].to_f64_vec();
    let scales = graph.initializers["w2_s"].to_f64_vec();
    let zero_points = graph.initializers["w2_z"].to_f64_vec();
    let n = scales.len();
    let gain = (0..n)
        .map(|col| {
            let spread: f64 = (0..w2.len() / n)
                .map(|k| (w2[k * n + col] - zero_points[col]).abs())
                .sum();
            scalar(graph, "s1") * scales[col] * spread / scalar(graph, "s2")
        })
        .fold(0.0, f64::max);
    1.0 + gain.ceil()
}

#[test]
fn a_qdq_mlp_runs_as_qlinear_matmul_and_its_export_agrees_with_onnxruntime() {
    let Some(python) = python() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kiln-qlinear-matmul-{}", std::process::id()));
    assert!(
        script(&python, &["make", dir.to_str().unwrap()]),
        "the model is written"
    );
    let graph = load_onnx(&dir.join("mlp_qdq.onnx")).expect("the model loads");
    let inputs = [("x".to_string(), read_npy(&dir.join("input.npy")).unwrap())];
    let ops = plan_ops(&graph, &inputs);
    assert_eq!(
        ops.iter().filter(|&&op| op == "QLinearMatMul").count(),
        2,
        "{ops:?}"
    );
    let gpu = Gpu::from_env().expect("a GPU adapter (lavapipe in CI)");
    let (on_cpu, _) = run_lowered(&graph, &inputs, Backend::Cpu);
    let (on_gpu, _) = run_lowered(&graph, &inputs, Backend::Gpu(&gpu));
    assert_eq!(
        on_cpu[0], on_gpu[0],
        "the integers are the same bytes on CPU and GPU"
    );
    let mut lowered = graph.clone();
    let report = lower_qdq_report(&mut lowered).unwrap();
    assert_eq!(
        report.lowered,
        ["gemm1", "matmul2"],
        "{:?}",
        report.kept_float
    );
    save_onnx(&lowered, &dir.join("lowered.onnx")).expect("the lowered graph exports");
    write_npy(&dir.join("kiln_output.npy"), &on_cpu[0]).unwrap();
    let bound = derived_bound(&graph);
    let agreed = script(
        &python,
        &["compare", dir.to_str().unwrap(), &format!("{bound}")],
    );
    std::fs::remove_dir_all(&dir).ok();
    assert!(agreed, "onnxruntime within {bound} steps of kiln");
}
