//! The `kiln` command line. With no arguments it runs the self-check on the default device.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiln::device::{list_adapters, BackendChoice, Gpu, GpuOptions};

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "Compress neural networks and run them fast on GPUs"
)]
struct Cli {
    /// Backend: auto, vulkan, metal, dx12 or gl.
    #[arg(long, global = true, env = "KILN_BACKEND", default_value = "auto")]
    backend: String,
    /// Adapter: a name substring or the index `kiln info` prints.
    #[arg(long, global = true, env = "KILN_ADAPTER")]
    adapter: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// List every adapter with the features and limits kiln uses.
    Info,
    /// Check every kernel against its CPU reference and print error and throughput (the default).
    Selfcheck,
    /// Benchmarks on the chosen device, each against a baseline measured in the same run.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
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

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> kiln::Result<ExitCode> {
    let backend: BackendChoice = cli.backend.parse()?;
    match cli.command.unwrap_or(Command::Selfcheck) {
        Command::Info => {
            print_info(backend);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what } => {
            let gpu = Gpu::new(&GpuOptions {
                backend,
                adapter: cli.adapter,
            })?;
            run_bench(&gpu, what)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Selfcheck => {
            let gpu = Gpu::new(&GpuOptions {
                backend,
                adapter: cli.adapter,
            })?;
            let info = gpu.info();
            println!(
                "kiln self-check on {} ({:?}, {} {})\n",
                info.name, info.backend, info.driver, info.driver_info
            );
            let rows = kiln::selfcheck::run(&gpu)?;
            print!("{}", kiln::selfcheck::format_table(&rows));
            let failed = rows.iter().filter(|row| !row.passed).count();
            if failed == 0 {
                println!("\nall {} kernels match their CPU reference", rows.len());
                Ok(ExitCode::SUCCESS)
            } else {
                println!("\n{failed} of {} kernels FAILED", rows.len());
                Ok(ExitCode::FAILURE)
            }
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

fn run_bench(gpu: &Gpu, what: BenchCommand) -> kiln::Result<()> {
    match what {
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
            let info = gpu.info();
            println!(
                "sparse speedup over dense f32 on {} ({:?}); higher is better\n",
                info.name, info.backend
            );
            let results = kiln::bench::sparse::run(gpu, &config, |line| eprintln!("  {line}"))?;
            print!("{}", kiln::bench::sparse::format_table(&config, &results));
            Ok(())
        }
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

fn print_info(backend: BackendChoice) {
    let adapters = list_adapters(backend);
    if adapters.is_empty() {
        println!(
            "no adapters found on backend '{backend}'. Install a GPU driver, or lavapipe \
             (Debian/Ubuntu: apt-get install mesa-vulkan-drivers)."
        );
    }
    for report in adapters {
        let info = &report.info;
        let caps = report.capabilities;
        let limits = &report.limits;
        println!("[{}] {}", report.index, info.name);
        println!(
            "    backend: {:?}   type: {:?}",
            info.backend, info.device_type
        );
        println!("    driver: {} ({})", info.driver, info.driver_info);
        println!(
            "    SHADER_F16: {}   SUBGROUP: {} (size {}..{})   TIMESTAMP_QUERY: {}",
            yes_no(caps.shader_f16),
            yes_no(caps.subgroups),
            info.subgroup_min_size,
            info.subgroup_max_size,
            yes_no(caps.timestamps)
        );
        println!(
            "    WGSL packed 4x8 integer dot product: {}   cooperative matrix: {}",
            yes_no(caps.packed_dot4),
            yes_no(caps.cooperative_matrix)
        );
        println!(
            "    limits: storage binding {} MiB, buffer {} MiB, workgroup memory {} KiB, \
             {} invocations per workgroup, {} workgroups per dimension",
            limits.max_storage_buffer_binding_size >> 20,
            limits.max_buffer_size >> 20,
            limits.max_compute_workgroup_storage_size >> 10,
            limits.max_compute_invocations_per_workgroup,
            limits.max_compute_workgroups_per_dimension
        );
    }
}
