//! The `kiln` command line. With no arguments it runs the self-check on the default device.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiln::device::BackendChoice;

mod cli;
use cli::DeviceArgs;

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "Compress neural networks and run them fast on GPUs"
)]
struct Cli {
    /// Backend: auto, vulkan, metal, dx12 or gl (kiln bench: a comma list, cpu, or all).
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
        what: cli::bench::BenchCommand,
    },
    /// Run a model (.onnx, .kiln, .cfg) on the chosen backend and print its outputs.
    Run(cli::run::RunArgs),
    /// Detect objects in images with a YOLO-style model and draw the boxes.
    Detect(cli::detect::DetectArgs),
    /// Convert a model between .onnx and .kiln (a Darknet .cfg reads too), by extension.
    Convert(cli::convert::ConvertArgs),
    /// Print every layer's weights (precision, layout, shape, bytes) and the totals.
    Inspect(cli::inspect::InspectArgs),
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
    let backend: BackendChoice = match &cli.command {
        // `kiln bench` and `kiln detect` read --backend themselves: a comma list, `cpu` or `all`.
        Some(Command::Bench { .. } | Command::Detect(_)) => BackendChoice::Auto,
        _ => cli.backend.parse()?,
    };
    let device = DeviceArgs {
        backend_text: cli.backend.clone(),
        backend,
        adapter: cli.adapter.clone(),
    };
    match cli.command.unwrap_or(Command::Selfcheck) {
        Command::Info => {
            cli::info::print_info(backend);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what } => {
            cli::bench::execute(&device, what)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => cli::run::execute(&device, args),
        Command::Detect(args) => cli::detect::execute(&device, args),
        Command::Convert(args) => cli::convert::execute(args),
        Command::Inspect(args) => cli::inspect::execute(args),
        Command::Selfcheck => {
            let gpu = device.open()?;
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
