//! Reference CNNs on the GPU against the CPU reference backend: VGG-19, whose 411 MB fc6 weight is
//! larger than lavapipe's 128 MiB storage binding and is bound in parts, and AlexNet (grouped
//! convolutions, LRN). The models come from `scripts/make_reference_cnns.sh` (seeded He-scaled
//! weights) in the ignored `models/` folder; without them each test prints why it skips, unless
//! `KILN_REQUIRE_REFERENCE_CNNS=1` makes their absence a failure (CI sets it).
//!
//! VGG-19's 20 GMAC take minutes on the single-threaded CPU reference and on lavapipe, so the
//! default run checks its classifier (fc6, fc7, fc8 from pool5: the split weight and 124 M of the
//! 144 M weights) and the whole model is `--ignored`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use kiln::check::{compare, SeededRng};
use kiln::device::Gpu;
use kiln::graph::{Dim, Graph, ValueInfo};
use kiln::import::onnx::load_onnx;
use kiln::ops::matmul::chunked::binding_parts;
use kiln::runtime::{Backend, Plan};
use kiln::tensor::{DType, HostTensor};

/// f32's unit roundoff, 2⁻²⁴.
const UNIT_ROUNDOFF: f64 = 1.0 / 16_777_216.0;

/// The reduction length of every convolution and fully connected layer of VGG-19, in order
/// (input channels · 3 · 3, then fc6, fc7, fc8).
const VGG19_REDUCTIONS: &[usize] = &[
    27, 576, 576, 1152, 1152, 2304, 2304, 2304, 2304, 4608, 4608, 4608, 4608, 4608, 4608, 4608,
    25_088, 4096, 4096,
];

/// The same for AlexNet (conv2, conv4 and conv5 in two groups), and for each LRN a few ULPs (its
/// sum of five squares and its power), written as K = 2.
const ALEXNET_REDUCTIONS: &[usize] = &[363, 1200, 2304, 1728, 1728, 9216, 4096, 4096, 2, 2];

/// The absolute tolerance between two f32 evaluations of a ReLU CNN whose outputs reach
/// `max_abs_output`. Each layer sums K products in f32; recursive summation is off the exact sum
/// by at most (K + 2)·u times the sum of |terms|. The weights are He-scaled, so every layer keeps
/// its activations' magnitude, and an error that one layer makes reaches the output with gain
/// about 1 (ReLU and max-pooling add none). The sum of |terms| is at most the output magnitude
/// times sqrt(K) for random-sign terms, while random rounding errors grow like sqrt(K), not K: the
/// worst-case K·u per layer, taken relative to the largest output, covers both. Two evaluations
/// (GPU and CPU) may err in opposite directions: twice that.
fn cnn_tolerance(reductions: &[usize], max_abs_output: f64) -> f32 {
    let relative: f64 = reductions
        .iter()
        .map(|&k| (k as f64 + 2.0) * UNIT_ROUNDOFF)
        .sum();
    (2.0 * relative * max_abs_output) as f32
}

/// `models/<name>.onnx`, or `None` (after saying why) when it is absent and not required.
fn reference_model(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("models/{name}.onnx"));
    if path.exists() {
        return Some(path);
    }
    let reason = format!(
        "{} is missing: run scripts/make_reference_cnns.sh to build it",
        path.display()
    );
    if std::env::var("KILN_REQUIRE_REFERENCE_CNNS").as_deref() == Ok("1") {
        panic!("{reason} (KILN_REQUIRE_REFERENCE_CNNS=1)");
    }
    eprintln!("skipping {name}: {reason}");
    None
}

/// Seeded input values in [-1, 1), like a normalised image.
fn random_image(shape: &[usize]) -> HostTensor {
    let values = SeededRng::new(224).uniform_vec(shape.iter().product(), -1.0, 1.0);
    HostTensor::from_f32(shape, values).unwrap()
}

/// Runs `graph` on `backend` once and returns its outputs and the seconds it took.
fn timed_run(
    graph: &Graph,
    input: &HostTensor,
    backend: Backend<'_>,
) -> kiln::Result<(Vec<(String, HostTensor)>, f64)> {
    let name = graph.inputs[0].name.clone();
    let shapes = [(name.clone(), input.shape().to_vec())];
    let mut plan = Plan::new(graph, &shapes, backend)?;
    let start = Instant::now();
    let outputs = plan.run(&[(name, input.clone())])?;
    Ok((outputs, start.elapsed().as_secs_f64()))
}

/// Every output of the GPU run against the CPU reference, with [`cnn_tolerance`].
fn compare_backends(
    name: &str,
    reductions: &[usize],
    on_gpu: &[(String, HostTensor)],
    on_cpu: &[(String, HostTensor)],
) {
    assert_eq!(on_gpu.len(), on_cpu.len());
    for ((output, got), (_, want)) in on_gpu.iter().zip(on_cpu) {
        let got = got.expect_f32("test").unwrap();
        let want = want.expect_f32("test").unwrap();
        let max_abs = want
            .iter()
            .fold(0.0f64, |max, &v| max.max(f64::from(v.abs())));
        assert!(
            want.iter().all(|v| v.is_finite()) && max_abs > 1e-3,
            "{name} {output}: the reference output must be finite and non-trivial, max |y| {max_abs}"
        );
        let tolerance = cnn_tolerance(reductions, max_abs);
        let comparison = compare(
            &format!("{name} {output}"),
            got,
            want,
            &vec![tolerance; want.len()],
        );
        eprintln!(
            "{name} {output}: max |GPU - CPU| {:.3e}, relative to max |y| {max_abs:.3e}: {:.3e} \
             (tolerance {tolerance:.3e})",
            comparison.max_abs_error,
            comparison.max_abs_error / max_abs
        );
        comparison.assert_passed();
    }
}

/// How many storage bindings each weight larger than one binding takes on `gpu`.
fn split_weights(gpu: &Gpu, graph: &Graph) -> Vec<(String, usize)> {
    (graph.initializers.iter())
        .map(|(name, host)| {
            let parts = binding_parts(gpu, host.shape(), host.dtype());
            (name.clone(), parts.unwrap_or(0))
        })
        .filter(|(_, parts)| *parts != 1)
        .collect()
}

/// Which part of a model a test runs.
enum Part<'a> {
    /// The whole model, on an input of this shape.
    Whole(&'a [usize]),
    /// The nodes after the one that produces this value, which becomes the input (of this shape).
    From(&'a str, &'a [usize]),
}

/// Runs `part` of the model on both backends and compares them.
fn check_model(name: &str, part: Part<'_>, reductions: &[usize]) -> kiln::Result<()> {
    let Some(path) = reference_model(name) else {
        return Ok(());
    };
    let model = load_onnx(&path)?;
    let (graph, input_shape) = match part {
        Part::Whole(shape) => (model, shape),
        Part::From(start, shape) => (tail_of(&model, start, shape), shape),
    };
    let gpu = Gpu::from_env()?;
    let input = random_image(input_shape);
    eprintln!(
        "{name}: binding limit {} bytes; weights split: {:?}",
        gpu.max_binding_bytes(),
        split_weights(&gpu, &graph)
    );
    let (on_cpu, cpu_seconds) = timed_run(&graph, &input, Backend::Cpu)?;
    let (on_gpu, gpu_seconds) = timed_run(&graph, &input, Backend::Gpu(&gpu))?;
    eprintln!("{name}: CPU reference {cpu_seconds:.1} s, GPU {gpu_seconds:.1} s (first run)");
    compare_backends(&graph.name, reductions, &on_gpu, &on_cpu);
    Ok(())
}

/// `graph` from the value `start` on: its nodes after the one producing `start`, which becomes the
/// input (of `shape`), with only the initializers those nodes read.
fn tail_of(graph: &Graph, start: &str, shape: &[usize]) -> Graph {
    let first = graph
        .nodes
        .iter()
        .position(|node| node.outputs.iter().any(|output| output == start))
        .expect("the value is produced by a node")
        + 1;
    let nodes = graph.nodes[first..].to_vec();
    let read: HashSet<&String> = nodes
        .iter()
        .flat_map(|node| node.inputs.iter().flatten())
        .collect();
    Graph {
        name: format!("{} from {start}", graph.name),
        inputs: vec![ValueInfo {
            name: start.into(),
            dtype: Some(DType::F32),
            shape: Some(shape.iter().map(|&dim| Dim::Fixed(dim)).collect()),
        }],
        initializers: (graph.initializers.iter())
            .filter(|(name, _)| read.contains(name))
            .map(|(name, tensor)| (name.clone(), tensor.clone()))
            .collect(),
        nodes,
        outputs: graph.outputs.clone(),
        packed_weights: graph.packed_weights.clone(),
        metadata: graph.metadata.clone(),
    }
}

#[test]
fn vgg19_classifier_on_the_gpu_matches_the_cpu_reference() {
    check_model(
        "vgg19",
        Part::From("pool5", &[1, 512, 7, 7]),
        &VGG19_REDUCTIONS[16..],
    )
    .unwrap();
}

#[test]
#[ignore = "minutes on lavapipe and on the single-threaded CPU reference: cargo test --test big_models -- --ignored"]
fn vgg19_on_the_gpu_matches_the_cpu_reference() {
    check_model("vgg19", Part::Whole(&[1, 3, 224, 224]), VGG19_REDUCTIONS).unwrap();
}

#[test]
fn alexnet_on_the_gpu_matches_the_cpu_reference() {
    if let Err(error) = check_model(
        "alexnet",
        Part::Whole(&[1, 3, 227, 227]),
        ALEXNET_REDUCTIONS,
    ) {
        panic!("alexnet: {error}");
    }
}
