//! What the real-architecture tests share: the manifest `real_models.json` that
//! scripts/make_quantized_real_models.py writes, kiln's batched run of one model on many inputs,
//! and where each node of the optimised graph computes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use kiln::device::Gpu;
use kiln::graph::passes::{node_arithmetic, optimize_with, Arithmetic, PassOptions};
use kiln::graph::Graph;
use kiln::io::npy::read_npy;
use kiln::runtime::{Backend, Plan};
use kiln::tensor::HostTensor;
use serde::Deserialize;

/// Inputs per Plan run: the batch kiln runs at once (the last run takes what is left).
const BATCH: usize = 25;

/// `real_models.json`.
#[derive(Deserialize)]
pub struct Manifest {
    /// Every quantized model.
    pub models: Vec<RealModel>,
}

/// One quantized model and onnxruntime's outputs for it.
#[derive(Deserialize)]
pub struct RealModel {
    /// The file stem: `<family>_<activations>_<granularity>_<calibration>` or `<family>_dynamic`.
    pub name: String,
    /// squeezenet, resnet50, mobilenetv2, yolov3_tiny or yolov8n.
    pub family: String,
    /// The graph input.
    pub input: String,
    /// The `.npy` of the family's inputs, `[N, 3, H, W]`.
    pub inputs_file: String,
    /// How many of the inputs (the first ones) onnxruntime ran and the test compares.
    pub compare: usize,
    /// How onnxruntime quantized it, in words.
    pub quantization: String,
    /// The graph outputs in order.
    pub outputs: Vec<RealOutput>,
}

/// One graph output of a [`RealModel`].
#[derive(Deserialize)]
pub struct RealOutput {
    /// The output's name.
    pub name: String,
    /// The scale of the DequantizeLinear producing it (0: a float output).
    pub step: f64,
    /// The `.npy` of onnxruntime's values, `[compare, ...]`.
    pub file: String,
}

/// The folder and manifest, or `None` (after saying why) when absent and not required.
pub fn real_models() -> Option<(PathBuf, Manifest)> {
    let dir = std::env::var_os("KILN_QUANTIZED_MODELS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cache/quantized-models"),
        PathBuf::from,
    );
    let path = dir.join("real_models.json");
    if !path.exists() {
        let reason = format!(
            "{} is missing: run scripts/make_quantized_models.sh to build it",
            path.display()
        );
        if std::env::var("KILN_REQUIRE_QUANTIZED_MODELS").as_deref() == Ok("1") {
            panic!("{reason} (KILN_REQUIRE_QUANTIZED_MODELS=1)");
        }
        eprintln!("skipping: {reason}");
        return None;
    }
    let text = std::fs::read_to_string(&path).expect("real_models.json reads");
    Some((
        dir,
        serde_json::from_str(&text).expect("real_models.json parses"),
    ))
}

/// The models of `family` in the manifest; at least one must be there.
pub fn family<'m>(manifest: &'m Manifest, family: &str) -> Vec<&'m RealModel> {
    let models: Vec<&RealModel> = (manifest.models.iter())
        .filter(|model| model.family == family)
        .collect();
    assert!(!models.is_empty(), "no {family} model in real_models.json");
    models
}

/// Reads `file` from `dir`.
pub fn npy(dir: &Path, file: &str) -> HostTensor {
    read_npy(&dir.join(file)).unwrap_or_else(|error| panic!("{file}: {error}"))
}

/// The first `model.compare` of the family's inputs.
pub fn model_inputs(dir: &Path, model: &RealModel) -> HostTensor {
    rows(&npy(dir, &model.inputs_file), 0, model.compare)
}

/// The backend the tests run kiln on: the GPU (lavapipe in CI), or the CPU reference when
/// `KILN_REAL_MODELS_BACKEND=cpu` (scripts/compare_quantized_real_models.sh times both).
pub enum TestBackend {
    /// A wgpu device.
    Gpu(Box<Gpu>),
    /// The CPU reference.
    Cpu,
}

impl TestBackend {
    /// From `KILN_REAL_MODELS_BACKEND` (`gpu`, the default, or `cpu`).
    pub fn from_env() -> Self {
        match std::env::var("KILN_REAL_MODELS_BACKEND").as_deref() {
            Ok("cpu") => TestBackend::Cpu,
            _ => TestBackend::Gpu(Box::new(
                Gpu::from_env().expect("a GPU adapter (lavapipe in CI)"),
            )),
        }
    }

    /// The kiln backend.
    pub fn backend(&self) -> Backend<'_> {
        match self {
            TestBackend::Gpu(gpu) => Backend::Gpu(gpu),
            TestBackend::Cpu => Backend::Cpu,
        }
    }

    /// `gpu` or `cpu`, for the printed figures.
    pub fn label(&self) -> &'static str {
        match self {
            TestBackend::Gpu(_) => "gpu",
            TestBackend::Cpu => "cpu",
        }
    }
}

/// Rows `start..end` of `tensor` (f32, batch first).
fn rows(tensor: &HostTensor, start: usize, end: usize) -> HostTensor {
    let row: usize = tensor.shape()[1..].iter().product();
    let values = tensor.as_f32().expect("f32 inputs")[start * row..end * row].to_vec();
    let mut shape = tensor.shape().to_vec();
    shape[0] = end - start;
    HostTensor::from_f32(&shape, values).expect("a batch")
}

/// kiln's outputs for every row of `inputs` (default Plan: QDQ lowering on), in batches of
/// [`BATCH`], concatenated per output; and the mean seconds per input over the batches after the
/// first (whose run compiles the GPU pipelines), or over the first when it is the only one.
pub fn run_batched(
    graph: &Graph,
    input: &str,
    inputs: &HostTensor,
    backend: Backend<'_>,
) -> (Vec<Vec<f32>>, f64) {
    let count = inputs.shape()[0];
    let mut outputs: Vec<Vec<f32>> = Vec::new();
    let mut plan: Option<(usize, Plan)> = None;
    let (mut seconds, mut timed) = (0.0, 0);
    for start in (0..count).step_by(BATCH) {
        let end = (start + BATCH).min(count);
        let batch = rows(inputs, start, end);
        if plan.as_ref().is_none_or(|(size, _)| *size != end - start) {
            let shapes = [(input.to_string(), batch.shape().to_vec())];
            let built = Plan::new(graph, &shapes, backend).expect("the plan builds");
            plan = Some((end - start, built));
        }
        let (_, plan) = plan.as_mut().expect("a plan");
        let started = Instant::now();
        let got = plan.run(&[(input.to_string(), batch)]).expect("kiln runs");
        if start > 0 || count <= BATCH {
            seconds += started.elapsed().as_secs_f64();
            timed += end - start;
        }
        outputs.resize(got.len(), Vec::new());
        for (all, (_, tensor)) in outputs.iter_mut().zip(got) {
            all.extend_from_slice(tensor.as_f32().expect("f32 outputs"));
        }
    }
    (outputs, seconds / timed as f64)
}

/// How many nodes of `graph`, optimised for `shapes` with the default passes, compute in
/// integers, in float, and convert between them (`kiln inspect`'s table, counted).
pub fn arithmetic_counts(graph: &Graph, shapes: &[(String, Vec<usize>)]) -> [usize; 3] {
    let mut optimized = graph.clone();
    let (_, lowering) =
        optimize_with(&mut optimized, shapes, &PassOptions::default()).expect("the passes run");
    let mut counts = [0; 3];
    for node in node_arithmetic(&optimized, &lowering) {
        let slot = match node.arithmetic {
            Arithmetic::Integer => 0,
            Arithmetic::Float(_) => 1,
            Arithmetic::Conversion => 2,
        };
        counts[slot] += 1;
    }
    counts
}
