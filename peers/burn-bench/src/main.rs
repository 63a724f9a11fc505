//! kiln against peers on the same adapter, in one run: kiln's matmul and burn's (wgpu backend,
//! fusion and autotune on, as burn ships) on the same sizes and precisions, each iteration
//! submitted and waited for on its own and timed by the wall clock, so both pay the same
//! submission and synchronisation costs. With `--torch`, torch's matmul (cuBLAS, TF32 off) is
//! timed the same way by `torch_matmul.py` in the same command. Ratios are kiln time / peer time:
//! below 1, kiln is faster.
//!
//! The adapter is the one kiln opens (`KILN_BACKEND`, `KILN_ADAPTER`); burn is asked for the first
//! adapter of the same type on the same graphics API, and both names are printed so a mismatch is
//! visible.

mod peers;

use std::process::ExitCode;

use kiln::bench::kernels::MatmulSize;
use kiln::bench::measure::{time_gpu, IterationSettings};
use kiln::bench::stats::LatencySummary;
use kiln::check::SeededRng;
use kiln::device::Gpu;
use kiln::ops::matmul::f16::matmul_f16;
use kiln::ops::matmul::f32::matmul_f32;
use kiln::ops::matmul::MatmulOptions;
use kiln::tensor::GpuTensor;

use peers::{BurnPeer, Precision};

/// Command-line options.
struct Options {
    sizes: Vec<MatmulSize>,
    precisions: Vec<Precision>,
    iterations: IterationSettings,
    torch: bool,
}

const USAGE: &str =
    "usage: kiln-burn-bench [--sizes 256,512,1024x1024x4096] [--precisions f32,f16] \
[--warmup 3] [--iters 20] [--torch]";

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        sizes: vec![256, 512, 1024]
            .into_iter()
            .map(|side| MatmulSize {
                m: side,
                n: side,
                k: side,
            })
            .collect(),
        precisions: vec![Precision::F32, Precision::F16],
        iterations: IterationSettings {
            warmup: 3,
            iterations: 20,
        },
        torch: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--sizes" => {
                options.sizes = value()?
                    .split(',')
                    .map(|size| size.parse().map_err(|e: kiln::Error| e.to_string()))
                    .collect::<Result<_, _>>()?
            }
            "--precisions" => {
                options.precisions = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--warmup" => options.iterations.warmup = value()?.parse().map_err(|_| USAGE)?,
            "--iters" => options.iterations.iterations = value()?.parse().map_err(|_| USAGE)?,
            "--torch" => options.torch = true,
            _ => return Err(USAGE.into()),
        }
    }
    Ok(options)
}

/// kiln's matmul at `size` and `precision`, timed like the peers: wall clock around each
/// synchronised run.
fn time_kiln(
    gpu: &Gpu,
    size: MatmulSize,
    precision: Precision,
    iterations: &IterationSettings,
) -> kiln::Result<LatencySummary> {
    let mut rng = SeededRng::new(9);
    let a = rng.uniform_vec(size.m * size.k, -1.0, 1.0);
    let b = rng.uniform_vec(size.k * size.n, -1.0, 1.0);
    let options = MatmulOptions::default();
    let timings = match precision {
        Precision::F32 => {
            let a = GpuTensor::upload(gpu, &[size.m, size.k], &a)?;
            let b = GpuTensor::upload(gpu, &[size.k, size.n], &b)?;
            time_gpu(gpu, iterations, None, || {
                matmul_f32(gpu, &a, &b, None, &options).map(drop)
            })?
        }
        Precision::F16 => {
            let half = |v: Vec<f32>| v.into_iter().map(half::f16::from_f32).collect::<Vec<_>>();
            let a = GpuTensor::upload(gpu, &[size.m, size.k], &half(a))?;
            let b = GpuTensor::upload(gpu, &[size.k, size.n], &half(b))?;
            time_gpu(gpu, iterations, None, || {
                matmul_f16(gpu, &a, &b, None, &options).map(drop)
            })?
        }
    };
    Ok(timings.summarize()?.wall)
}

fn ms(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "–".into(), |s| format!("{:.3}", s * 1e3))
}

fn ratio(kiln: f64, peer: Option<f64>) -> String {
    peer.map_or_else(|| "–".into(), |p| format!("{:.2}", kiln / p))
}

fn run(options: &Options) -> Result<(), String> {
    let gpu = Gpu::from_env().map_err(|e| e.to_string())?;
    let info = gpu.info().clone();
    let burn = BurnPeer::open(&info)?;
    println!(
        "kiln: {} ({:?}, {} {}); burn: {}",
        info.name,
        info.backend,
        info.driver,
        info.driver_info,
        burn.describe()
    );
    let torch = if options.torch {
        let results = peers::run_torch(&options.sizes, &options.precisions, &options.iterations)?;
        println!("torch: {}", results.device);
        Some(results)
    } else {
        None
    };
    println!(
        "\nwall-clock p50 per synchronised run, {} warm-up + {} timed; ratio = kiln / peer (below 1: kiln faster)\n",
        options.iterations.warmup, options.iterations.iterations
    );
    println!("| MxNxK | precision | kiln ms | kiln GFLOP/s | burn ms | torch ms | kiln/burn | kiln/torch |");
    println!("|---|---|---|---|---|---|---|---|");
    for &size in &options.sizes {
        for &precision in &options.precisions {
            let kiln = time_kiln(&gpu, size, precision, &options.iterations)
                .map_err(|e| format!("kiln {size} {precision}: {e}"))?
                .p50;
            let burn_time = burn.time_matmul(size, precision, &options.iterations)?;
            let torch_time = torch.as_ref().and_then(|t| t.p50(size, precision));
            let gflops = 2.0 * (size.m * size.n * size.k) as f64 / kiln / 1e9;
            println!(
                "| {size} | {precision} | {} | {gflops:.1} | {} | {} | {} | {} |",
                ms(Some(kiln)),
                ms(burn_time),
                ms(torch_time),
                ratio(kiln, burn_time),
                ratio(kiln, torch_time)
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let outcome = parse_options().and_then(|options| run(&options));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
