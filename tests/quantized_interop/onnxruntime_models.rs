//! Models quantized by onnxruntime (scripts/make_quantized_models.sh) against onnxruntime's own
//! outputs, on kiln's CPU reference and GPU, lowered, and on the unlowered float path.

use std::path::PathBuf;

use kiln::device::Gpu;
use kiln::graph::passes::lower_qdq_report;
use kiln::import::onnx::load_onnx;
use kiln::io::npy::read_npy;
use kiln::runtime::Backend;

use crate::common::{plan_ops, run_lowered, run_unlowered};
use crate::steps::{max_steps, requantization_depth};

/// `cache/quantized-models`, or `None` (after saying why) when it is absent and not required.
pub(crate) fn models_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("KILN_QUANTIZED_MODELS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cache/quantized-models"),
        PathBuf::from,
    );
    if dir.join("manifest.txt").exists() {
        return Some(dir);
    }
    let reason = format!(
        "{} is missing: run scripts/make_quantized_models.sh to build it",
        dir.display()
    );
    if std::env::var("KILN_REQUIRE_QUANTIZED_MODELS").as_deref() == Ok("1") {
        panic!("{reason} (KILN_REQUIRE_QUANTIZED_MODELS=1)");
    }
    eprintln!("skipping: {reason}");
    None
}

/// One line of `manifest.txt`: model, input name, output step (0: float output), Conv count.
pub(crate) struct ModelEntry {
    pub(crate) name: String,
    pub(crate) input: String,
    pub(crate) output_step: f64,
    pub(crate) convs: usize,
}

pub(crate) fn manifest(dir: &std::path::Path) -> Vec<ModelEntry> {
    let text = std::fs::read_to_string(dir.join("manifest.txt")).expect("manifest.txt reads");
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 4, "manifest line '{line}'");
            ModelEntry {
                name: fields[0].into(),
                input: fields[1].into(),
                output_step: fields[2].parse().expect("a step"),
                convs: fields[3].parse().expect("a count"),
            }
        })
        .collect()
}

#[test]
fn onnxruntime_quantized_models_run_in_integers_and_agree() {
    let Some(dir) = models_dir() else {
        return;
    };
    let gpu = Gpu::from_env().expect("a GPU adapter (lavapipe in CI)");
    let mut checked = 0;
    for entry in manifest(&dir)
        .iter()
        .filter(|entry| entry.output_step > 0.0)
    {
        let graph = load_onnx(&dir.join(format!("{}.onnx", entry.name))).expect("the model loads");
        let read = |what: &str| read_npy(&dir.join(format!("{}.{what}.npy", entry.name))).unwrap();
        let (input, want) = (read("input"), read("output"));
        let inputs = [(entry.input.clone(), input)];
        let bound = requantization_depth(&graph) as f64;
        let report = lower_qdq_report(&mut graph.clone()).expect("the lowering runs");
        eprintln!(
            "{}: lowered {:?}; kept float {:?}",
            entry.name, report.lowered, report.kept_float
        );
        let float_path = &run_unlowered(&graph, &inputs)[0];
        let (on_cpu, cpu_lowered) = run_lowered(&graph, &inputs, Backend::Cpu);
        let (on_gpu, gpu_lowered) = run_lowered(&graph, &inputs, Backend::Gpu(&gpu));
        let step = entry.output_step;
        let float_steps = max_steps(float_path, &want, step);
        let (cpu_steps, gpu_steps) = (
            max_steps(&on_cpu[0], &want, step),
            max_steps(&on_gpu[0], &want, step),
        );
        eprintln!(
            "{}: {cpu_lowered}/{} Conv lowered; max |kiln − onnxruntime| in output steps: CPU \
             {cpu_steps}, GPU {gpu_steps}, unlowered float path {float_steps}; |GPU − CPU| {}; \
             bound {bound}",
            entry.name,
            entry.convs,
            max_steps(&on_gpu[0], &on_cpu[0], step)
        );
        assert_eq!(
            (cpu_lowered, gpu_lowered),
            (entry.convs, entry.convs),
            "{}",
            entry.name
        );
        for (what, steps) in [
            ("CPU", cpu_steps),
            ("GPU", gpu_steps),
            ("float", float_steps),
        ] {
            assert!(
                steps <= bound,
                "{} {what}: {steps} steps > {bound}",
                entry.name
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 8, "two CNNs × per-tensor/per-channel × uint8/int8");
}

#[test]
fn dynamic_quantization_runs_in_integers_and_agrees_with_onnxruntime() {
    // onnxruntime's `quantize_dynamic` MLP: DynamicQuantizeLinear → MatMulInteger (int8 weights,
    // per tensor) → Cast → Mul by the scales' product → Add → Relu, twice.
    let Some(dir) = models_dir() else {
        return;
    };
    let graph = load_onnx(&dir.join("matmul_dynamic.onnx")).expect("the model loads");
    let read = |what: &str| read_npy(&dir.join(format!("matmul_dynamic.{what}.npy"))).unwrap();
    let (input, want) = (read("input"), read("output"));
    let inputs = [("input".to_string(), input)];
    let ops = plan_ops(&graph, &inputs);
    assert_eq!(
        (ops.iter())
            .filter(|&&op| op == "MatMulInteger" || op == "DynamicQuantizeLinear")
            .count(),
        4,
        "{ops:?}"
    );
    let gpu = Gpu::from_env().expect("a GPU adapter (lavapipe in CI)");
    let (on_cpu, _) = run_lowered(&graph, &inputs, Backend::Cpu);
    let (on_gpu, _) = run_lowered(&graph, &inputs, Backend::Gpu(&gpu));
    let (cpu, gpu_values, want) = (
        on_cpu[0].to_f64_vec(),
        on_gpu[0].to_f64_vec(),
        want.to_f64_vec(),
    );
    let worst = |got: &[f64]| {
        (got.iter().zip(&want))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    eprintln!(
        "matmul_dynamic: max |kiln − onnxruntime|: CPU {}, GPU {}; max |logit| {}",
        worst(&cpu),
        worst(&gpu_values),
        want.iter().fold(0.0f64, |m, v| m.max(v.abs()))
    );
    // The bound is 0. Every step is exact integer arithmetic (MatMulInteger; DynamicQuantizeLinear's
    // min, max, round and clamp) or one correctly rounded IEEE f32 operation on the same operands
    // in the same order, in kiln's reference, in kiln's GPU kernels (DynamicQuantizeLinear divides
    // with a correctly rounded long division; |acc| ≤ 48 · 255 · 128 < 2²⁴, so i32 → f32 is exact)
    // and in onnxruntime's CPU kernels (MLAS divides x by the scale with IEEE division; Cast, Mul,
    // Add and Relu are elementwise f32). So the three agree bit for bit.
    assert_eq!(cpu, gpu_values, "GPU against the CPU reference");
    assert_eq!(cpu, want, "kiln against onnxruntime");
}
