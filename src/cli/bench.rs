//! `kiln bench ...`: benchmarks on the chosen devices, each against a baseline measured in the
//! same run.

use clap::Subcommand;
use kiln::device::Gpu;

use crate::cli::DeviceArgs;

#[derive(Subcommand)]
pub enum BenchCommand {
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
    let gpu = device.open()?;
    run_bench(&gpu, what)
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
