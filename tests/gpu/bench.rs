//! The benchmark harness on tiny problems (the short bench run CI makes on lavapipe): the sparse
//! benchmark, `kiln bench kernels` and `kiln bench model` must run every case, with positive finite
//! times and GPU timestamps where the adapter has them. Speed itself is never asserted.

use kiln::bench::kernels::KernelBenchConfig;
use kiln::bench::measure::{IterationSettings, TimingSource};
use kiln::bench::model::ModelBenchConfig;
use kiln::bench::report::{BenchReport, Precision};
use kiln::bench::roofline::RooflineSettings;
use kiln::bench::sparse::{format_table, run, SparseBenchConfig};
use kiln::check::SeededRng;
use kiln::device::timestamps::{pair_durations, TimestampQueries};
use kiln::graph::{Dim, Graph, Node, Op, ValueInfo};
use kiln::import::onnx::{load_onnx, save_onnx};
use kiln::ops::elementwise::UnaryOp;
use kiln::ops::matmul::f32::matmul_f32;
use kiln::ops::matmul::MatmulOptions;
use kiln::ops::{Activation, PointwiseActivation};
use kiln::tensor::bsr::BlockShape;
use kiln::tensor::{DType, GpuTensor, HostTensor};
use kiln::Error;

use crate::common::gpu;

#[test]
fn sparse_bench_reports_every_weight_and_row_count() {
    let Some(gpu) = gpu() else { return };
    let config = SparseBenchConfig {
        weights: vec![(40, 72), (17, 33)],
        rows: vec![1, 5],
        sparsities: vec![0.5, 0.9],
        block: BlockShape::B8x8,
        min_seconds: 0.0,
    };
    let mut progress_lines = 0;
    let rows = run(gpu, &config, |_| progress_lines += 1).unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(progress_lines, 4);
    for row in &rows {
        assert_eq!(row.bsr_seconds.len(), 2);
        let times = [row.dense_seconds, row.two_four_seconds]
            .into_iter()
            .chain(row.bsr_seconds.iter().copied());
        assert!(
            times.into_iter().all(|t| t.is_finite() && t > 0.0),
            "{row:?}"
        );
    }
    let table = format_table(&config, &rows);
    assert_eq!(table.lines().count(), 2 + rows.len(), "{table}");
    assert!(
        table.contains("| 17×33 | 5 |") && table.contains("BSR 8x8 90%"),
        "{table}"
    );
}

#[test]
fn sparse_bench_rejects_bad_configurations() {
    let Some(gpu) = gpu() else { return };
    let bad = [
        SparseBenchConfig {
            sparsities: vec![1.5],
            ..SparseBenchConfig::default()
        },
        SparseBenchConfig {
            rows: vec![],
            ..SparseBenchConfig::default()
        },
        SparseBenchConfig {
            weights: vec![(0, 4)],
            ..SparseBenchConfig::default()
        },
    ];
    for config in bad {
        assert!(matches!(
            run(gpu, &config, |_| ()),
            Err(Error::InvalidArgument { .. })
        ));
    }
}

fn tiny_kernel_config() -> KernelBenchConfig {
    KernelBenchConfig {
        matmuls: vec!["16x24x40".parse().unwrap()],
        convs: vec!["4x8x8:3x3:4".parse().unwrap()],
        precisions: Precision::ALL.to_vec(),
        batches: vec![1, 2],
        iterations: IterationSettings {
            warmup: 1,
            iterations: 3,
        },
        roofline: Some(RooflineSettings {
            target_seconds: 1e-3,
            iterations: IterationSettings {
                warmup: 1,
                iterations: 3,
            },
        }),
    }
}

/// The short CI bench run: every case on tiny sizes, 3 iterations, timestamps where present.
#[test]
fn kernel_bench_times_every_case_on_the_device() {
    let Some(gpu) = gpu() else { return };
    let config = tiny_kernel_config();
    let mut finished = 0;
    let run = kiln::bench::kernels::gpu::run(gpu, &config, &mut |_| finished += 1).unwrap();
    assert_eq!(run.results.len(), config.cases().len());
    assert_eq!(finished, run.results.len());
    let roof = run.roofline.as_ref().unwrap();
    for peak in [roof.bandwidth_gb_per_s, roof.compute_gflop_per_s] {
        assert!(peak.is_finite() && peak > 0.0, "{roof:?}");
    }
    let timestamps = gpu.capabilities().timestamps;
    for result in &run.results {
        let latency = &result.latency;
        assert_eq!(latency.wall.samples, 3, "{result:?}");
        assert!(latency.wall.p50 > 0.0 && result.throughput.gflop_per_s.unwrap() > 0.0);
        if timestamps {
            assert_eq!(latency.primary, TimingSource::GpuTimestamps, "{result:?}");
        }
    }
    let f16_native = run.results.iter().any(|r| r.variant == "f16 native");
    assert_eq!(f16_native, gpu.capabilities().shader_f16);
    let mut report = BenchReport::new("kernels", Some("ci"), config.iterations);
    report.runs.push(run);
    let text = report.to_json();
    assert_eq!(
        BenchReport::from_json(&text, "ci").unwrap().runs[0]
            .results
            .len(),
        14
    );
}

#[test]
fn timestamp_marks_bracket_recorded_work_and_refuse_overflow() {
    let Some(gpu) = gpu() else { return };
    let Some(mut queries) = TimestampQueries::new(gpu, 4) else {
        assert!(!gpu.capabilities().timestamps);
        return;
    };
    let side = 128;
    let ones = vec![1.0f32; side * side];
    let a = GpuTensor::upload(gpu, &[side, side], &ones).unwrap();
    queries.mark(gpu).unwrap();
    matmul_f32(gpu, &a, &a, None, &MatmulOptions::default()).unwrap();
    queries.mark(gpu).unwrap();
    queries.mark(gpu).unwrap();
    queries.mark(gpu).unwrap();
    assert_eq!(queries.remaining(), 0);
    assert!(matches!(
        queries.mark(gpu),
        Err(Error::InvalidArgument { .. })
    ));
    let marks = queries.read(gpu).unwrap();
    assert_eq!(marks.len(), 4);
    assert!(marks.windows(2).all(|pair| pair[1] >= pair[0]), "{marks:?}");
    let durations = pair_durations(&marks);
    assert!(durations[0].unwrap() > 0.0, "a 128³ matmul takes time");
    assert_eq!(queries.remaining(), 4, "reading empties the set");
}

/// `x [N, 8] · w [8, 4]`, then ReLU, saved as ONNX and loaded back as `kiln bench model` does.
fn tiny_onnx_model(dir: &std::path::Path) -> std::path::PathBuf {
    let mut rng = SeededRng::new(5);
    let weight = HostTensor::from_f32(&[8, 4], rng.uniform_vec(32, -1.0, 1.0)).unwrap();
    let graph = Graph {
        name: "tiny".into(),
        inputs: vec![ValueInfo {
            name: "x".into(),
            dtype: Some(DType::F32),
            shape: Some(vec![Dim::Symbol("N".into()), Dim::Fixed(8)]),
        }],
        outputs: vec![ValueInfo {
            name: "y".into(),
            dtype: Some(DType::F32),
            shape: None,
        }],
        initializers: [("w".to_string(), weight)].into(),
        packed_weights: Default::default(),
        nodes: vec![
            Node {
                name: "mm".into(),
                op: Op::MatMul {
                    activation: Activation::Identity,
                },
                inputs: vec![Some("x".into()), Some("w".into())],
                outputs: vec!["p".into()],
            },
            Node {
                name: "relu".into(),
                op: Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu)),
                inputs: vec![Some("p".into())],
                outputs: vec!["y".into()],
            },
        ],
        metadata: Default::default(),
    };
    let path = dir.join("tiny.onnx");
    save_onnx(&graph, &path).unwrap();
    path
}

#[test]
fn model_bench_runs_one_plan_per_batch_on_gpu_and_cpu() {
    let Some(gpu) = gpu() else { return };
    let dir = std::env::temp_dir().join(format!("kiln-model-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let graph = load_onnx(&tiny_onnx_model(&dir)).unwrap();
    let config = ModelBenchConfig {
        batches: vec![1, 3],
        input_shapes: Vec::new(),
        iterations: IterationSettings {
            warmup: 1,
            iterations: 3,
        },
        roofline: None,
        compare_qdq: true,
    };
    let (on_gpu, gpu_qdq) =
        kiln::bench::model::run_gpu(gpu, &graph, "tiny.onnx", &config, &mut |_| ()).unwrap();
    let (on_cpu, cpu_qdq) =
        kiln::bench::model::run_cpu(&graph, "tiny.onnx", &config, &mut |_| ()).unwrap();
    // No QuantizeLinear/DequantizeLinear: one path, nothing to compare.
    assert!(gpu_qdq.is_empty() && cpu_qdq.is_empty());
    for run in [&on_gpu, &on_cpu] {
        assert_eq!(run.results.len(), 2);
        for (result, batch) in run.results.iter().zip([1, 3]) {
            assert_eq!((result.batch, result.precision), (batch, Precision::F32));
            // The MatMul's multiply-adds: batch · 8 · 4, two FLOP each.
            assert_eq!(result.operations, Some((2 * batch * 8 * 4) as f64));
            assert!(result.latency.wall.p50 > 0.0);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
