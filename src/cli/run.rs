//! `kiln run model.onnx` (or `.kiln`, `.cfg`): runs a model on the chosen backend and prints its
//! outputs: shape, a checksum and a summary of each, optionally written as `.npy` and compared
//! with the CPU reference backend.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use kiln::graph::Graph;
use kiln::import::load_model;
use kiln::runtime::{Backend, Plan};
use kiln::tensor::HostTensor;
use kiln::Error;

use crate::cli::DeviceArgs;
use inputs::build_inputs;
use outputs::{print_comparison, print_output, write_outputs};

mod inputs;
mod outputs;

/// Arguments of `kiln run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The model: `.onnx`, `.kiln` or a Darknet `.cfg`.
    pub model: PathBuf,
    /// An input as `name=file.npy` (or an ONNX TensorProto `.pb`); inputs not given are random.
    #[arg(long = "input", value_name = "NAME=FILE", value_parser = parse_input)]
    pub inputs: Vec<(String, PathBuf)>,
    /// Binds a symbolic dimension of the random inputs, as `name=value`.
    #[arg(long = "dim", value_name = "NAME=VALUE", value_parser = parse_dim)]
    pub dims: Vec<(String, usize)>,
    /// Run on the CPU reference backend instead of the GPU.
    #[arg(long)]
    pub cpu: bool,
    /// Also run on the CPU reference backend and print each output's largest difference.
    #[arg(long)]
    pub compare_cpu: bool,
    /// Write every output to DIR/<output name>.npy.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Seed of the random inputs.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

fn split_assignment(text: &str) -> Result<(&str, &str), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() && !value.is_empty() => Ok((name, value)),
        _ => Err(format!("expected NAME=VALUE, got '{text}'")),
    }
}

fn parse_input(text: &str) -> Result<(String, PathBuf), String> {
    let (name, file) = split_assignment(text)?;
    Ok((name.to_string(), PathBuf::from(file)))
}

fn parse_dim(text: &str) -> Result<(String, usize), String> {
    let (name, value) = split_assignment(text)?;
    let value: usize = value
        .parse()
        .map_err(|_| format!("'{value}' is not a dimension (a non-negative integer)"))?;
    if value > kiln::limits::MAX_DIM_VALUE {
        return Err(format!(
            "{name}={value} exceeds kiln's limit of {} for one dimension",
            kiln::limits::MAX_DIM_VALUE
        ));
    }
    Ok((name.to_string(), value))
}

/// Runs `kiln run`.
pub fn execute(device: &DeviceArgs, args: RunArgs) -> kiln::Result<ExitCode> {
    if args.cpu && args.compare_cpu {
        return Err(invalid(
            "--compare-cpu compares the GPU with the CPU backend; drop --cpu".into(),
        ));
    }
    let started = Instant::now();
    let graph = load_model(&args.model)?;
    println!(
        "model: {} ({} nodes, {} initializers), loaded in {:.1} ms",
        args.model.display(),
        graph.nodes.len(),
        graph.initializers.len(),
        millis(started)
    );
    let inputs = build_inputs(&graph, &args)?;
    for (name, tensor) in &inputs {
        println!("input {name}: {} {:?}", tensor.dtype(), tensor.shape());
    }
    let shapes: Vec<(String, Vec<usize>)> = inputs
        .iter()
        .map(|(name, tensor)| (name.clone(), tensor.shape().to_vec()))
        .collect();
    let gpu = if args.cpu { None } else { Some(device.open()?) };
    match &gpu {
        Some(gpu) => println!("device: {} ({:?})", gpu.info().name, gpu.info().backend),
        None => println!("device: CPU reference backend"),
    }
    let backend = gpu.as_ref().map_or(Backend::Cpu, Backend::Gpu);
    let outputs = plan_and_run(&graph, &shapes, &inputs, backend, true)?;
    for (name, tensor) in &outputs {
        print_output(name, tensor);
    }
    if let Some(dir) = &args.output_dir {
        write_outputs(dir, &outputs)?;
    }
    if args.compare_cpu {
        println!("CPU reference backend:");
        let reference = plan_and_run(&graph, &shapes, &inputs, Backend::Cpu, false)?;
        print_comparison(&outputs, &reference);
    }
    Ok(ExitCode::SUCCESS)
}

fn invalid(detail: String) -> Error {
    Error::InvalidArgument {
        op: "kiln run",
        detail,
    }
}

fn millis(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Builds the plan and runs it once, printing the times (and the planned peak when `report_peak`).
fn plan_and_run(
    graph: &Graph,
    shapes: &[(String, Vec<usize>)],
    inputs: &[(String, HostTensor)],
    backend: Backend<'_>,
    report_peak: bool,
) -> kiln::Result<Vec<(String, HostTensor)>> {
    let started = Instant::now();
    let mut plan = Plan::new(graph, shapes, backend)?;
    let plan_ms = millis(started);
    let started = Instant::now();
    let outputs = plan.run(inputs)?;
    println!(
        "plan: {plan_ms:.1} ms ({} nodes after passes), run: {:.1} ms",
        plan.graph().nodes.len(),
        millis(started)
    );
    if report_peak {
        println!(
            "planned peak of live intermediates: {:.3} MiB",
            plan.peak_bytes() as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_parse_and_reject_malformed_text() {
        assert_eq!(parse_dim("batch=4").unwrap(), ("batch".to_string(), 4));
        assert!(parse_dim("batch=-1").is_err());
        let huge = parse_dim("N=1000000000000").unwrap_err();
        assert!(
            huge.contains("N=1000000000000") && huge.contains("limit"),
            "{huge}"
        );
        assert!(parse_dim("batch").is_err());
        assert!(parse_input("=a.npy").is_err());
        assert_eq!(
            parse_input("x=a=b.npy").unwrap().1,
            PathBuf::from("a=b.npy")
        );
    }
}
