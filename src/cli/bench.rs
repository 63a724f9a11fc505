//! `kiln bench ...`: benchmarks on the chosen backends, each against a baseline measured in the
//! same run. `kernels` and `model` take `--backend` as a comma list (`vulkan,gl,cpu`) or `all`,
//! print Markdown tables, and with `--out DIR` write the JSON report, CSV and charts; `compare`
//! merges reports; `sparse` compares dense and sparse matmul on one device.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kiln::bench::compare::compare;
use kiln::bench::kernels::KernelBenchConfig;
use kiln::bench::measure::IterationSettings;
use kiln::bench::model::ModelBenchConfig;
use kiln::bench::report::{BackendRun, BenchReport, Precision};
use kiln::bench::roofline::RooflineSettings;
use kiln::bench::targets::{parse_targets, BenchTarget};
use kiln::bench::{format, output};
use kiln::device::Gpu;

use crate::cli::DeviceArgs;

/// Options every timed benchmark shares.
#[derive(Args)]
pub struct RunOptions {
    /// Untimed runs before timing each problem.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Timed runs of each problem (one latency sample each).
    #[arg(long, default_value_t = 20)]
    iters: usize,
    /// Batch sizes, comma separated.
    #[arg(long, default_value = "1")]
    batch: String,
    /// Skip the roofline (bandwidth and FMA) measurement.
    #[arg(long)]
    no_roofline: bool,
    /// Milliseconds one roofline run grows to before it is timed.
    #[arg(long, default_value_t = 10.0)]
    roofline_ms: f64,
    /// Folder for report.json, report.csv and the charts (latency and roofline, SVG and PNG).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Machine label in the report (default: the host name).
    #[arg(long)]
    machine: Option<String>,
}

impl RunOptions {
    fn iterations(&self) -> IterationSettings {
        IterationSettings {
            warmup: self.warmup,
            iterations: self.iters,
        }
    }

    fn roofline(&self) -> Option<RooflineSettings> {
        (!self.no_roofline).then(|| RooflineSettings {
            target_seconds: self.roofline_ms * 1e-3,
            ..RooflineSettings::default()
        })
    }
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Matmul (f32, f16, int8, int4) and conv2d kernels: latency percentiles, throughput and the
    /// share of the device's measured roofline.
    Kernels {
        /// Matmul sizes: MxNxK, or one number for a cube; comma separated, or `none`.
        #[arg(long, default_value = "256,512")]
        sizes: String,
        /// Conv layers CxHxW:KHxKW:O (stride 1, pad K/2), comma separated, or `none`.
        #[arg(long, default_value = "64x56x56:3x3:64")]
        conv: String,
        /// Precisions, comma separated (conv has no int4).
        #[arg(long, default_value = "f32,f16,int8,int4")]
        precisions: String,
        #[command(flatten)]
        run: RunOptions,
    },
    /// A whole model (`.onnx`, `.kiln`, Darknet `.cfg`) through the runtime's Plan, per batch.
    ///
    /// A QDQ model (QuantizeLinear/DequantizeLinear nodes) runs each batch twice in the same run:
    /// the float path (QDQ lowering off, every DequantizeLinear/QuantizeLinear a float op), then
    /// the integer path (lowered to QLinearConv and int8/uint8 MaxPool). A table after the
    /// report gives both median latencies, their ratio (float/integer: above 1 means the integer
    /// path is faster), the weight bytes and peak activation bytes of each.
    Model {
        /// The model: `.onnx`, `.kiln` or a Darknet `.cfg`.
        model: PathBuf,
        /// Precisions to run; the runtime runs models in f32 only, others are reported and skipped.
        #[arg(long, default_value = "f32")]
        precisions: String,
        /// Shape of an input whose declared shape is not fixed: NAME=1x3x224x224 (the leading
        /// dimension is replaced by each batch size). Repeatable.
        #[arg(long = "input")]
        inputs: Vec<String>,
        /// Run a QDQ model on the integer (lowered) path only, without the float path beside it.
        #[arg(long)]
        no_qdq_compare: bool,
        #[command(flatten)]
        run: RunOptions,
    },
    /// Merge reports (other machines, backends or commits) into one table with ratios.
    Compare {
        /// Report files written by `kiln bench kernels|model --out`.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// The baseline column: its index or a substring of its label (default: the first).
        #[arg(long)]
        baseline: Option<String>,
        /// Folder for the merged charts.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Dense matmul against BSR at several fractions of zero blocks and against 2:4.
    Sparse {
        /// Weights as NxK (output channels x reduction length), comma separated.
        #[arg(long, default_value = "4096x4096,255x512")]
        weights: String,
        /// Activation row counts M, comma separated.
        #[arg(long, default_value = "1,16,256")]
        rows: String,
        /// Fractions of zero blocks for BSR, comma separated.
        #[arg(long, default_value = "0.5,0.75,0.9,0.95")]
        sparsities: String,
        /// BSR block shape: 4x4, 8x8, 16x16, 32x32, 1x32 or 32x1.
        #[arg(long, default_value = "16x16")]
        block: String,
        /// Seconds each timing loop runs for.
        #[arg(long, default_value_t = 0.3)]
        seconds: f64,
    },
}

/// Runs one benchmark command.
pub fn execute(device: &DeviceArgs, what: BenchCommand) -> kiln::Result<()> {
    match what {
        BenchCommand::Kernels {
            sizes,
            conv,
            precisions,
            run,
        } => {
            let config = KernelBenchConfig {
                matmuls: parse_optional_list("--sizes", &sizes)?,
                convs: parse_optional_list("--conv", &conv)?,
                precisions: parse_list("--precisions", &precisions)?,
                batches: parse_batches(&run.batch)?,
                iterations: run.iterations(),
                roofline: run.roofline(),
            };
            config.validate()?;
            bench_kernels(device, &config, &run)
        }
        BenchCommand::Model {
            model,
            precisions,
            inputs,
            no_qdq_compare,
            run,
        } => bench_model(device, &model, &precisions, &inputs, !no_qdq_compare, &run),
        BenchCommand::Compare {
            reports,
            baseline,
            out,
        } => bench_compare(&reports, baseline.as_deref(), out.as_deref()),
        BenchCommand::Sparse {
            weights,
            rows,
            sparsities,
            block,
            seconds,
        } => {
            let config = kiln::bench::sparse::SparseBenchConfig {
                weights: parse_weights(&weights)?,
                rows: parse_list("--rows", &rows)?,
                sparsities: parse_list("--sparsities", &sparsities)?,
                block: block.parse()?,
                min_seconds: seconds,
            };
            config.validate()?;
            bench_sparse(&open_single_gpu(device)?, &config)
        }
    }
}

fn parse_list<T: std::str::FromStr>(what: &'static str, text: &str) -> kiln::Result<Vec<T>> {
    text.split(',')
        .map(|item| {
            item.trim()
                .parse()
                .map_err(|_| kiln::Error::InvalidArgument {
                    op: what,
                    detail: format!("cannot read '{item}' in '{text}'"),
                })
        })
        .collect()
}

/// A comma list, or nothing for `none` or an empty text.
fn parse_optional_list<T: std::str::FromStr<Err = kiln::Error>>(
    what: &'static str,
    text: &str,
) -> kiln::Result<Vec<T>> {
    match text.trim() {
        "" | "none" => Ok(Vec::new()),
        _ => text
            .split(',')
            .map(|item| item.parse())
            .collect::<kiln::Result<_>>()
            .map_err(|error| kiln::Error::InvalidArgument {
                op: what,
                detail: error.to_string(),
            }),
    }
}

fn parse_weights(text: &str) -> kiln::Result<Vec<(usize, usize)>> {
    text.split(',')
        .map(|item| {
            let pair = item.trim().split_once(['x', 'X']);
            match pair.map(|(n, k)| (n.parse(), k.parse())) {
                Some((Ok(n), Ok(k))) => Ok((n, k)),
                _ => Err(kiln::Error::InvalidArgument {
                    op: "--weights",
                    detail: format!("'{item}' is not NxK, e.g. 4096x4096"),
                }),
            }
        })
        .collect()
}

/// `kiln bench sparse` times one device: `--backend` must name exactly one GPU backend.
fn open_single_gpu(device: &DeviceArgs) -> kiln::Result<Gpu> {
    match parse_targets(&device.backend_text, device.adapter.as_deref())?.as_slice() {
        [BenchTarget::Gpu(options)] => Gpu::new(options),
        _ => Err(kiln::Error::InvalidArgument {
            op: "--backend",
            detail: "kiln bench sparse runs on one GPU backend (auto, vulkan, metal, dx12 or gl)"
                .into(),
        }),
    }
}

fn progress_bar(total: usize) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    let template = "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}";
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Runs `bench` on every `--backend` target, collecting the runs. A target that cannot be opened
/// is skipped with a warning when there are others; none left is the last error.
fn run_targets(
    device: &DeviceArgs,
    steps_per_target: usize,
    mut bench: impl FnMut(&BenchTarget, Option<&Gpu>, &ProgressBar) -> kiln::Result<BackendRun>,
) -> kiln::Result<Vec<BackendRun>> {
    let targets = parse_targets(&device.backend_text, device.adapter.as_deref())?;
    let bar = progress_bar(targets.len() * steps_per_target);
    let mut runs = Vec::new();
    let mut last_error = None;
    for target in &targets {
        bar.set_message(format!("{target}: roofline"));
        let outcome = match target {
            BenchTarget::Cpu => bench(target, None, &bar),
            BenchTarget::Gpu(options) => {
                Gpu::new(options).and_then(|gpu| bench(target, Some(&gpu), &bar))
            }
        };
        match outcome {
            Ok(run) => runs.push(run),
            Err(error) if targets.len() > 1 => {
                bar.println(format!("skipping {target}: {error}"));
                last_error = Some(error);
            }
            Err(error) => return Err(error),
        }
    }
    bar.finish_and_clear();
    match (runs.is_empty(), last_error) {
        (true, Some(error)) => Err(error),
        _ => Ok(runs),
    }
}

fn bench_kernels(
    device: &DeviceArgs,
    config: &KernelBenchConfig,
    run: &RunOptions,
) -> kiln::Result<()> {
    let mut report = BenchReport::new("kernels", run.machine.as_deref(), config.iterations);
    report.runs = run_targets(device, config.cases().len(), |target, gpu, bar| {
        let mut progress = |case: &kiln::bench::kernels::KernelCase| {
            bar.set_message(format!(
                "{target}: {} {} {}",
                case.kernel(),
                case.shape(),
                case.precision
            ));
            bar.inc(1);
        };
        match gpu {
            Some(gpu) => kiln::bench::kernels::gpu::run(gpu, config, &mut progress),
            None => kiln::bench::kernels::cpu::run(config, &mut progress),
        }
    })?;
    finish(&report, run.out.as_deref())
}

fn bench_model(
    device: &DeviceArgs,
    path: &Path,
    precisions: &str,
    inputs: &[String],
    compare_qdq: bool,
    run: &RunOptions,
) -> kiln::Result<()> {
    for precision in parse_list::<Precision>("--precisions", precisions)? {
        if precision != Precision::F32 {
            eprintln!("note: kiln's runtime runs models in f32 only; skipping {precision}");
        }
    }
    let input_shapes = inputs
        .iter()
        .map(|text| match text.split_once('=') {
            Some((name, shape)) => Ok((name.trim().to_string(), parse_shape(shape)?)),
            None => Err(kiln::Error::InvalidArgument {
                op: "--input",
                detail: format!("'{text}' is not NAME=1x3x224x224"),
            }),
        })
        .collect::<kiln::Result<Vec<_>>>()?;
    let config = ModelBenchConfig {
        batches: parse_batches(&run.batch)?,
        input_shapes,
        iterations: run.iterations(),
        roofline: run.roofline(),
        compare_qdq,
    };
    let graph = kiln::import::load_model(path)?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let command = format!("model {}", path.display());
    let mut report = BenchReport::new(&command, run.machine.as_deref(), config.iterations);
    let mut comparisons = Vec::new();
    report.runs = run_targets(device, config.batches.len(), |target, gpu, bar| {
        let mut progress = |batch: usize| {
            bar.set_message(format!("{target}: {name} batch {batch}"));
            bar.inc(1);
        };
        let (backend_run, compared) = match gpu {
            Some(gpu) => kiln::bench::model::run_gpu(gpu, &graph, &name, &config, &mut progress),
            None => kiln::bench::model::run_cpu(&graph, &name, &config, &mut progress),
        }?;
        comparisons.extend(compared);
        Ok(backend_run)
    })?;
    finish(&report, run.out.as_deref())?;
    if !comparisons.is_empty() {
        println!("\nQDQ float path against the lowered integer path ({name}):\n");
        print!("{}", kiln::bench::qdq::comparison_markdown(&comparisons));
    }
    Ok(())
}

/// The `--batch` list, each size within [`kiln::limits::check_batch`].
fn parse_batches(text: &str) -> kiln::Result<Vec<usize>> {
    let batches: Vec<usize> = parse_list("--batch", text)?;
    batches
        .iter()
        .try_for_each(|&batch| kiln::limits::check_batch(batch))?;
    Ok(batches)
}

fn parse_shape(text: &str) -> kiln::Result<Vec<usize>> {
    text.split(['x', 'X', ','])
        .map(|dim| {
            dim.trim()
                .parse()
                .map_err(|_| kiln::Error::InvalidArgument {
                    op: "--input",
                    detail: format!("cannot read the shape '{text}'"),
                })
        })
        .collect()
}

/// Prints the report's tables and, with `out`, writes the report, CSV and charts there.
fn finish(report: &BenchReport, out: Option<&Path>) -> kiln::Result<()> {
    print!("{}", format::report_text(report));
    if let Some(out) = out {
        print_written(&output::write_report_files(report, out)?);
    }
    Ok(())
}

fn print_written(paths: &[PathBuf]) {
    let names: Vec<String> = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    eprintln!("wrote {}", names.join(", "));
}

fn bench_compare(
    paths: &[PathBuf],
    baseline: Option<&str>,
    out: Option<&Path>,
) -> kiln::Result<()> {
    let reports = paths
        .iter()
        .map(|path| BenchReport::read_json(path))
        .collect::<kiln::Result<Vec<_>>>()?;
    print!("{}", compare(&reports, baseline)?.markdown());
    if let Some(out) = out {
        print_written(&output::write_charts(&reports, baseline, out)?);
    }
    Ok(())
}

fn bench_sparse(gpu: &Gpu, config: &kiln::bench::sparse::SparseBenchConfig) -> kiln::Result<()> {
    let info = gpu.info();
    println!(
        "sparse speedup over dense f32 on {} ({:?}); higher is better\n",
        info.name, info.backend
    );
    let results = kiln::bench::sparse::run(gpu, config, |line| eprintln!("  {line}"))?;
    print!("{}", kiln::bench::sparse::format_table(config, &results));
    Ok(())
}
