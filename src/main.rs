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
