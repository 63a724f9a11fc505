//! `kiln bench model`: a whole model through [`Plan`] per batch size, on a GPU or the CPU reference
//! backend. A GPU iteration records one inference (input upload and every node; the outputs stay
//! on the device) and is timed by GPU timestamps around it and by the wall clock around its
//! submission; a CPU iteration is one `Plan::run`. The runtime runs models in f32 only, so every
//! result is f32. Operations count the multiply-adds of Conv, QLinearConv, ConvTranspose, MatMul and Gemm nodes
//! (2 FLOP each; element-wise work is left out); bytes are the minimal traffic: weights, inputs and
//! outputs once.

use std::collections::BTreeMap;

use crate::bench::measure::{time_cpu, time_gpu, IterationSettings, Timings};
use crate::bench::qdq::{has_qdq, QdqComparison, QdqPath, QdqPathFigures, QDQ_PATHS};
use crate::bench::report::{
    BackendRun, BenchResult, DeviceReport, Precision, Roofline, Throughput,
};
use crate::bench::roofline::{self, RooflineSettings};
use crate::check::SeededRng;
use crate::device::timestamps::TimestampQueries;
use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::graph::infer::{infer_types, ValueType};
use crate::graph::{Dim, Graph, Op};
use crate::runtime::{Backend, Plan};
use crate::tensor::{DType, HostTensor};

/// What `kiln bench model` runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelBenchConfig {
    /// Batch sizes: each replaces the leading dimension of every input.
    pub batches: Vec<usize>,
    /// Shapes for inputs whose declared shape is not fully fixed (leading dimension replaced by
    /// the batch).
    pub input_shapes: Vec<(String, Vec<usize>)>,
    /// Warm-up and timed iterations per batch.
    pub iterations: IterationSettings,
    /// The roofline measurement, or `None` to skip it.
    pub roofline: Option<RooflineSettings>,
    /// For a model with QuantizeLinear/DequantizeLinear nodes, run each batch on both
    /// [`QDQ_PATHS`] (lowering off, then on) and compare them; otherwise run once, lowered.
    pub compare_qdq: bool,
}

/// The paths each batch of `graph` runs: both QDQ paths when compared, else the default passes.
fn paths(graph: &Graph, config: &ModelBenchConfig) -> &'static [QdqPath] {
    match config.compare_qdq && has_qdq(graph) {
        true => &QDQ_PATHS,
        false => &QDQ_PATHS[1..],
    }
}

/// The result variant of `path` on a backend described by `base`.
fn variant(base: &str, path: QdqPath, compared: bool) -> String {
    match compared {
        true => format!("{base}, {}", path.label()),
        false => base.to_string(),
    }
}

/// Pairs a batch's float and integer figures, when both ran.
fn comparison(
    device: &DeviceReport,
    batch: usize,
    figures: Vec<QdqPathFigures>,
) -> Option<QdqComparison> {
    let [float, integer]: [QdqPathFigures; 2] = figures.try_into().ok()?;
    Some(QdqComparison {
        device: format!("{} ({})", device.backend, device.adapter),
        batch,
        float,
        integer,
    })
}

/// The bound shape of every graph input at `batch`: from `overrides` where given, else the
/// declared shape with a symbolic leading dimension read as the batch. Any other symbolic or
/// missing dimension is an [`Error::InvalidArgument`] that names the input.
pub fn input_shapes(
    graph: &Graph,
    overrides: &[(String, Vec<usize>)],
    batch: usize,
) -> Result<Vec<(String, Vec<usize>)>> {
    let runtime_inputs = graph
        .inputs
        .iter()
        .filter(|input| !graph.initializers.contains_key(&input.name));
    runtime_inputs
        .map(|input| {
            let given = overrides.iter().find(|(name, _)| *name == input.name);
            let mut shape = match (given, &input.shape) {
                (Some((_, shape)), _) => shape.clone(),
                (None, Some(dims)) => declared_shape(&input.name, dims)?,
                (None, None) => return Err(needs_shape(&input.name, "no declared shape")),
            };
            if let Some(leading) = shape.first_mut() {
                *leading = batch;
            }
            Ok((input.name.clone(), shape))
        })
        .collect()
}

fn declared_shape(name: &str, dims: &[Dim]) -> Result<Vec<usize>> {
    dims.iter()
        .enumerate()
        .map(|(axis, dim)| match dim {
            Dim::Fixed(size) => Ok(*size),
            Dim::Symbol(_) if axis == 0 => Ok(1),
            Dim::Symbol(symbol) => Err(needs_shape(
                name,
                &format!("symbolic dimension '{symbol}' at axis {axis}"),
            )),
        })
        .collect()
}

fn needs_shape(name: &str, why: &str) -> Error {
    Error::InvalidArgument {
        op: "bench model",
        detail: format!("input '{name}' has {why}; give its shape with --input {name}=1x3x224x224"),
    }
}

fn shape_of<'t>(types: &'t BTreeMap<String, ValueType>, name: Option<&str>) -> &'t [usize] {
    name.and_then(|name| types.get(name))
        .map_or(&[], |value| value.shape.as_slice())
}

/// FLOP of the Conv, ConvTranspose, MatMul and Gemm nodes of `graph` under `types` (2 per
/// multiply-add).
pub fn model_operations(graph: &Graph, types: &BTreeMap<String, ValueType>) -> f64 {
    let elements = |shape: &[usize]| shape.iter().product::<usize>() as f64;
    graph
        .nodes
        .iter()
        .map(|node| {
            let output = node.outputs.first().map(String::as_str);
            let out = elements(shape_of(types, output));
            let first = shape_of(types, node.input(0));
            let weight = shape_of(types, node.input(1));
            let taps = || elements(weight.get(1..).unwrap_or(&[]));
            match &node.op {
                Op::Conv(_) => 2.0 * out * taps(),
                Op::QLinearConv(_) => {
                    let weight = shape_of(types, node.input(3));
                    2.0 * out * elements(weight.get(1..).unwrap_or(&[]))
                }
                Op::ConvTranspose(_) => 2.0 * elements(first) * taps(),
                Op::MatMul { .. } => 2.0 * out * first.last().copied().unwrap_or(0) as f64,
                Op::Gemm { trans_a, .. } => {
                    let k = if *trans_a {
                        first.first()
                    } else {
                        first.get(1)
                    };
                    2.0 * out * k.copied().unwrap_or(0) as f64
                }
                _ => 0.0,
            }
        })
        .sum()
}

/// Seeded uniform values in [-1, 1] for f32 inputs, zeros for any other dtype.
fn random_inputs(plan: &Plan, rng: &mut SeededRng) -> Result<Vec<(String, HostTensor)>> {
    plan.input_types()
        .into_iter()
        .map(|(name, value)| {
            let what = format!("random input '{name}'");
            let bytes = crate::limits::random_input_bytes(&value.shape, value.dtype, &what)?;
            let count = bytes / value.dtype.size_bytes();
            let tensor = match value.dtype {
                DType::F32 => HostTensor::from_f32(&value.shape, rng.uniform_vec(count, -1.0, 1.0)),
                dtype => HostTensor::zeros(&value.shape, dtype),
            }?;
            Ok((name, tensor))
        })
        .collect()
}

/// Operations and minimal bytes of one inference of `plan` with `inputs`.
fn work(
    plan: &Plan,
    shapes: &[(String, Vec<usize>)],
    inputs: &[(String, HostTensor)],
) -> Result<(f64, f64)> {
    let graph = plan.graph();
    let types = infer_types(graph, shapes)?;
    let weights: usize = graph
        .initializers
        .values()
        .map(HostTensor::size_bytes)
        .sum();
    let input_bytes: usize = inputs.iter().map(|(_, tensor)| tensor.size_bytes()).sum();
    let output_bytes: usize = plan
        .output_types()
        .iter()
        .map(|(_, value)| value.shape.iter().product::<usize>() * value.dtype.size_bytes())
        .sum();
    let bytes = (weights + input_bytes + output_bytes) as f64;
    Ok((model_operations(graph, &types), bytes))
}

fn result(
    model: &str,
    batch: usize,
    variant: &str,
    (operations, bytes): (f64, f64),
    timings: &Timings,
    roof: Option<&Roofline>,
) -> Result<BenchResult> {
    let mut result = BenchResult {
        kernel: "model".into(),
        shape: model.into(),
        precision: Precision::F32,
        batch,
        variant: variant.into(),
        operations: (operations > 0.0).then_some(operations),
        bytes: Some(bytes),
        latency: timings.summarize()?,
        throughput: Throughput {
            gflop_per_s: None,
            gb_per_s: None,
            inferences_per_s: 0.0,
        },
        roofline_percent: None,
    };
    result.fill_throughput(roof);
    Ok(result)
}

fn validate(config: &ModelBenchConfig) -> Result<()> {
    config.iterations.validate()?;
    if config.batches.is_empty() || config.batches.contains(&0) {
        return Err(Error::InvalidArgument {
            op: "bench model",
            detail: "give batch sizes of at least 1".into(),
        });
    }
    Ok(())
}

/// Runs `graph` (named `model` in the results) on `gpu` at every batch of `config`, measuring
/// the roofline first; `progress` hears of each batch as it finishes. Returns the run and, for a
/// compared QDQ model, the float and integer paths' figures per batch.
pub fn run_gpu(
    gpu: &Gpu,
    graph: &Graph,
    model: &str,
    config: &ModelBenchConfig,
    progress: &mut dyn FnMut(usize),
) -> Result<(BackendRun, Vec<QdqComparison>)> {
    validate(config)?;
    let capacity = (2 * config.iterations.iterations as u32).max(64);
    let mut timestamps = TimestampQueries::new(gpu, capacity);
    let roof = match &config.roofline {
        Some(settings) => Some(roofline::measure_gpu(gpu, settings, timestamps.as_mut())?),
        None => None,
    };
    let device = DeviceReport::of_gpu(gpu);
    let (results, comparisons) = run_paths(
        graph,
        model,
        config,
        &device,
        |path, shapes, rng| {
            let mut plan =
                Plan::with_passes(graph, shapes, Backend::Gpu(gpu), &path.pass_options())?;
            let inputs = random_inputs(&plan, rng)?;
            let work = work(&plan, shapes, &inputs)?;
            let timings = time_gpu(gpu, &config.iterations, timestamps.as_mut(), || {
                plan.run_on_device(&inputs).map(drop)
            })?;
            Ok((plan, work, timings))
        },
        "f32, outputs on device",
        roof.as_ref(),
        progress,
    )?;
    Ok((
        BackendRun {
            device,
            roofline: roof,
            results,
        },
        comparisons,
    ))
}

/// Runs `graph` on the CPU reference backend at every batch of `config`, returning as
/// [`run_gpu`] does.
pub fn run_cpu(
    graph: &Graph,
    model: &str,
    config: &ModelBenchConfig,
    progress: &mut dyn FnMut(usize),
) -> Result<(BackendRun, Vec<QdqComparison>)> {
    validate(config)?;
    let roof = match &config.roofline {
        Some(settings) => Some(roofline::measure_cpu(settings)?),
        None => None,
    };
    let device = DeviceReport::host_cpu();
    let (results, comparisons) = run_paths(
        graph,
        model,
        config,
        &device,
        |path, shapes, rng| {
            let mut plan = Plan::with_passes(graph, shapes, Backend::Cpu, &path.pass_options())?;
            let inputs = random_inputs(&plan, rng)?;
            let work = work(&plan, shapes, &inputs)?;
            let timings = time_cpu(&config.iterations, || plan.run(&inputs).map(drop))?;
            Ok((plan, work, timings))
        },
        "reference",
        roof.as_ref(),
        progress,
    )?;
    Ok((
        BackendRun {
            device,
            roofline: roof,
            results,
        },
        comparisons,
    ))
}

/// A plan built for one path, its operations and bytes, and its timings.
type TimedPlan<'p> = (Plan<'p>, (f64, f64), Timings);

/// Runs every batch of `config` on each of its [`paths`] through `bench` (which builds, feeds and
/// times the plan; a fresh generator seeded alike per path, so both paths see the same inputs),
/// returning the results and, when both QDQ paths ran, their comparison per batch.
#[allow(clippy::too_many_arguments)]
fn run_paths<'p>(
    graph: &Graph,
    model: &str,
    config: &ModelBenchConfig,
    device: &DeviceReport,
    mut bench: impl FnMut(QdqPath, &[(String, Vec<usize>)], &mut SeededRng) -> Result<TimedPlan<'p>>,
    base_variant: &str,
    roof: Option<&Roofline>,
    progress: &mut dyn FnMut(usize),
) -> Result<(Vec<BenchResult>, Vec<QdqComparison>)> {
    let paths = paths(graph, config);
    let (mut results, mut comparisons) = (Vec::new(), Vec::new());
    for (index, &batch) in config.batches.iter().enumerate() {
        let shapes = input_shapes(graph, &config.input_shapes, batch)?;
        let mut figures = Vec::new();
        for &path in paths {
            let mut rng = SeededRng::new(2028 + index as u64);
            let (plan, work, timings) = bench(path, &shapes, &mut rng)?;
            let variant = variant(base_variant, path, paths.len() == 2);
            let result = result(model, batch, &variant, work, &timings, roof)?;
            figures.push(QdqPathFigures::of(&plan, &result.latency));
            results.push(result);
        }
        comparisons.extend(comparison(device, batch, figures));
        progress(batch);
    }
    Ok((results, comparisons))
}
