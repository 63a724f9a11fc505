//! The benchmark harness without a GPU: statistics, the JSON report's round trip and schema
//! checks, CSV, `compare`, the charts, problem parsing and work counts, and a short run of the CPU
//! reference backend.

use std::path::PathBuf;

use kiln::bench::compare::compare;
use kiln::bench::format::{results_table, roofline_table, to_csv, CSV_HEADER};
use kiln::bench::kernels::{ConvLayer, KernelBenchConfig, KernelCase, MatmulSize, Problem};
use kiln::bench::measure::{IterationSettings, TimingSource, Timings};
use kiln::bench::output::{write_charts, write_report_files};
use kiln::bench::report::{
    BackendRun, BenchReport, DeviceReport, Precision, Roofline, SCHEMA_VERSION,
};
use kiln::bench::roofline::RooflineSettings;
use kiln::bench::stats::LatencySummary;
use kiln::Error;

/// A fresh folder under the system temp folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn matmul_case(side: usize, precision: Precision) -> KernelCase {
    KernelCase {
        problem: Problem::Matmul(MatmulSize {
            m: side,
            n: side,
            k: side,
        }),
        precision,
        batch: 1,
    }
}

/// A backend run with one result per (side, precision), each timed at `seconds`.
fn backend_run(backend: &str, seconds: &[(usize, Precision, f64)]) -> BackendRun {
    let roof = Roofline {
        bandwidth_gb_per_s: 100.0,
        compute_gflop_per_s: 1000.0,
        timing: TimingSource::GpuTimestamps,
    };
    let results = seconds
        .iter()
        .map(|&(side, precision, time)| {
            let timings = Timings {
                wall: vec![time * 1.5; 4],
                gpu: Some(vec![time * 0.9, time, time, time * 1.1]),
            };
            matmul_case(side, precision)
                .result("test", &timings, Some(&roof))
                .unwrap()
        })
        .collect();
    BackendRun {
        device: DeviceReport {
            backend: backend.into(),
            adapter: format!("{backend} adapter"),
            device_type: "DiscreteGpu".into(),
            driver: "driver".into(),
            driver_info: "1.0, with a comma".into(),
            features: vec!["TIMESTAMP_QUERY".into()],
        },
        roofline: Some(roof),
        results,
    }
}

fn report(machine: &str, runs: Vec<BackendRun>) -> BenchReport {
    let mut report = BenchReport::new("kernels", Some(machine), IterationSettings::default());
    report.runs = runs;
    report
}

/// `got` and `want` hold the same fields and values; numbers may differ in their last bits
/// (serde_json parses decimal text to the nearest f64 only within an ulp unless its
/// `float_roundtrip` feature is on), so they are compared to 1e-14 relative.
fn assert_same_json(got: &serde_json::Value, want: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!((g - w).abs() <= 1e-14 * w.abs(), "{at}: {g} vs {w}");
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{at}");
            for (index, (g, w)) in g.iter().zip(w).enumerate() {
                assert_same_json(g, w, &format!("{at}[{index}]"));
            }
        }
        (Value::Object(g), Value::Object(w)) => {
            assert_eq!(
                g.keys().collect::<Vec<_>>(),
                w.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (key, w) in w {
                assert_same_json(&g[key], w, &format!("{at}.{key}"));
            }
        }
        _ => assert_eq!(got, want, "{at}"),
    }
}

#[test]
fn summary_of_one_to_ten() {
    let samples: Vec<f64> = (1..=10).map(f64::from).collect();
    let summary = LatencySummary::of(&samples).unwrap();
    // Linear interpolation at rank q·(n − 1): p50 at 4.5 → 5.5, p90 at 8.1 → 9.1, p99 at 8.91.
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(summary.p50, 5.5) && close(summary.p90, 9.1) && close(summary.p99, 9.91));
    assert_eq!((summary.min, summary.max, summary.samples), (1.0, 10.0, 10));
    assert!(close(summary.mean, 5.5));
    // Σ(x − 5.5)² = 82.5 over n − 1 = 9.
    assert!(close(summary.stddev, (82.5f64 / 9.0).sqrt()));
    // p25 at rank 2.25 → 3.25, p75 at 6.75 → 7.75: IQR 4.5 over the median 5.5.
    assert!(close(summary.spread, 4.5 / 5.5));
}

#[test]
fn throughput_and_roofline_share_follow_from_the_gpu_median() {
    let run = backend_run("vulkan", &[(100, Precision::F32, 0.001)]);
    let result = &run.results[0];
    assert_eq!(result.latency.primary, TimingSource::GpuTimestamps);
    // 2·100³ FLOP in 1 ms = 2 GFLOP/s; 3·100²·4 bytes = 120 kB in 1 ms = 0.12 GB/s.
    let gflops = result.throughput.gflop_per_s.unwrap();
    assert!((gflops - 2.0).abs() < 1e-9, "{gflops}");
    assert!((result.throughput.gb_per_s.unwrap() - 0.12).abs() < 1e-9);
    // Intensity 2e6 / 1.2e5 = 16.7 FLOP/B: the roof is min(1000, 16.7·100) = 1000 GFLOP/s.
    assert!((result.roofline_percent.unwrap() - 0.2).abs() < 1e-9);
    assert!((result.throughput.inferences_per_s - 1000.0).abs() < 1e-6);
}

#[test]
fn json_round_trips_and_rejects_other_schemas_and_newer_versions() {
    let original = report(
        "box",
        vec![backend_run("vulkan", &[(64, Precision::F16, 2e-4)])],
    );
    let dir = scratch("json");
    let path = dir.join("report.json");
    original.write_json(&path).unwrap();
    let read = BenchReport::read_json(&path).unwrap();
    let as_value = |report: &BenchReport| serde_json::to_value(report).unwrap();
    assert_same_json(&as_value(&read), &as_value(&original), "report");
    assert_eq!(original.schema_version, SCHEMA_VERSION);

    let mut value: serde_json::Value = serde_json::from_str(&original.to_json()).unwrap();
    value["schema_version"] = (SCHEMA_VERSION + 1).into();
    let newer = BenchReport::from_json(&value.to_string(), "newer.json");
    assert!(matches!(newer, Err(Error::Unsupported { .. })), "{newer:?}");
    value["schema"] = "something-else".into();
    let other = BenchReport::from_json(&value.to_string(), "other.json");
    assert!(matches!(other, Err(Error::Io { .. })), "{other:?}");
    let truncated = BenchReport::from_json(&original.to_json()[..40], "cut.json");
    assert!(matches!(truncated, Err(Error::Io { .. })));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn csv_has_one_line_per_result_and_quotes_commas() {
    let original = report(
        "box",
        vec![backend_run(
            "vulkan",
            &[(64, Precision::F32, 1e-4), (64, Precision::Int8, 5e-5)],
        )],
    );
    let csv = to_csv(&original);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], CSV_HEADER);
    let columns = CSV_HEADER.split(',').count();
    // The driver column holds "1.0, with a comma": quoted, so it adds one raw comma.
    for line in &lines[1..] {
        assert_eq!(line.split(',').count(), columns, "{line}");
    }
    let table = results_table(&original);
    assert_eq!(table.lines().count(), 2 + 2, "{table}");
    assert!(roofline_table(&original).contains("| 100.00 | 1000.00 | gpu |"));
}

#[test]
fn compare_merges_machines_with_ratios_against_the_baseline() {
    let a = report(
        "alpha",
        vec![
            backend_run(
                "vulkan",
                &[(64, Precision::F32, 0.004), (128, Precision::F32, 0.02)],
            ),
            backend_run("gl", &[(64, Precision::F32, 0.008)]),
        ],
    );
    let b = report(
        "beta",
        vec![backend_run("vulkan", &[(64, Precision::F32, 0.001)])],
    );
    let merged = compare(&[a.clone(), b.clone()], Some("beta")).unwrap();
    assert_eq!(merged.columns.len(), 3);
    assert_eq!(merged.baseline, 2);
    assert_eq!(merged.rows.len(), 2, "64 and 128, each once");
    let (key, cells) = &merged.rows[1];
    assert_eq!(key.shape, "64x64x64");
    let ratios = merged.ratios(cells);
    // Baseline 1 ms against 4 ms and 8 ms.
    assert_eq!(ratios, vec![Some(0.25), Some(0.125), Some(1.0)]);
    let table = merged.markdown();
    assert!(
        table.contains("| 4.000 (0.25×) | 8.000 (0.12×) | 1.000 (1.00×) |"),
        "{table}"
    );
    assert!(table.contains("| 20.000 | – | – |"), "{table}");

    let by_index = compare(&[a.clone(), b], Some("1")).unwrap();
    assert_eq!(by_index.baseline, 1);
    assert!(matches!(
        compare(std::slice::from_ref(&a), Some("nowhere")),
        Err(Error::InvalidArgument { .. })
    ));
    let twice = compare(&[a.clone(), a], None).unwrap();
    assert_eq!(twice.columns[2].label, "alpha/vulkan/vulkan adapter #2");
}

#[test]
fn report_files_and_charts_are_written() {
    let runs = vec![
        backend_run(
            "vulkan",
            &[(64, Precision::F32, 1e-4), (64, Precision::F16, 6e-5)],
        ),
        backend_run("cpu", &[(64, Precision::F32, 3e-3)]),
    ];
    let original = report("box", runs);
    let root = scratch("charts");
    let dir = root.join("nested");
    let written = write_report_files(&original, &dir).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected = [
        "report.json",
        "report.csv",
        "latency.svg",
        "latency.png",
        "roofline.svg",
        "roofline.png",
    ];
    assert_eq!(names, expected);
    for path in written {
        let bytes = std::fs::read(&path).unwrap();
        match path.extension().and_then(|e| e.to_str()) {
            Some("svg") => assert!(String::from_utf8_lossy(&bytes).contains("<svg"), "{path:?}"),
            Some("png") => assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{path:?}"),
            _ => assert!(!bytes.is_empty(), "{path:?}"),
        }
    }
    let empty = report("box", vec![]);
    assert!(write_charts(std::slice::from_ref(&empty), None, &dir).is_err());
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn problems_parse_and_count_their_work() {
    let cube: MatmulSize = "32".parse().unwrap();
    assert_eq!((cube.m, cube.n, cube.k), (32, 32, 32));
    let oblong: MatmulSize = "1x4096x512".parse().unwrap();
    assert_eq!(oblong.to_string(), "1x4096x512");
    assert!("8x0x8".parse::<MatmulSize>().is_err());
    assert!("8x8".parse::<MatmulSize>().is_err());
    let layer: ConvLayer = "16x28x28:3x3:32".parse().unwrap();
    assert_eq!(layer.output_size(), [28, 28]);
    assert!("16x28x28:3x3".parse::<ConvLayer>().is_err());
    let tiny: ConvLayer = "16x2x2:7x7:4".parse().unwrap();
    assert_eq!(
        tiny.output_size(),
        [2, 2],
        "pads of 3 keep a 7x7 kernel inside"
    );
    assert!("16x28x28:0x3:4".parse::<ConvLayer>().is_err());

    let conv = KernelCase {
        problem: Problem::Conv(layer),
        precision: Precision::F32,
        batch: 2,
    };
    // 2 images · 32 outputs · 16·3·3 taps · 28·28 pixels · 2 FLOP.
    assert_eq!(conv.operations(), (2 * 32 * 16 * 9 * 28 * 28 * 2) as f64);
    // f32: input 2·16·28·28 + weights 32·16·9 + output 2·32·28·28, 4 bytes each.
    let elements = 2 * 16 * 784 + 32 * 16 * 9 + 2 * 32 * 784;
    assert_eq!(conv.bytes(), (4 * elements) as f64);

    let config = KernelBenchConfig {
        matmuls: vec![cube],
        convs: vec![layer],
        precisions: Precision::ALL.to_vec(),
        batches: vec![1, 4],
        ..KernelBenchConfig::default()
    };
    // Matmul: 4 precisions × 2 batches; conv: 3 precisions (no int4 conv) × 2 batches.
    assert_eq!(config.cases().len(), 8 + 6);
}

#[test]
fn cpu_reference_backend_runs_every_case() {
    let config = KernelBenchConfig {
        matmuls: vec!["8x12x20".parse().unwrap()],
        convs: vec!["3x6x6:3x3:4".parse().unwrap()],
        precisions: Precision::ALL.to_vec(),
        batches: vec![1, 2],
        iterations: IterationSettings {
            warmup: 1,
            iterations: 3,
        },
        roofline: Some(RooflineSettings {
            target_seconds: 1e-4,
            iterations: IterationSettings {
                warmup: 0,
                iterations: 2,
            },
        }),
    };
    let mut finished = 0;
    let run = kiln::bench::kernels::cpu::run(&config, &mut |_| finished += 1).unwrap();
    assert_eq!(run.results.len(), config.cases().len());
    assert_eq!(finished, run.results.len());
    assert_eq!(run.device.backend, "cpu");
    for result in &run.results {
        assert_eq!(result.latency.wall.samples, 3);
        assert!(result.latency.gpu.is_none());
        assert!(result.latency.wall.p50 > 0.0 && result.roofline_percent.is_some());
    }
}
