//! `kiln run model.onnx`: runs a model on the chosen backend and prints its outputs.

use std::process::ExitCode;

use crate::cli::DeviceArgs;

/// Arguments of `kiln run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The ONNX model.
    pub model: std::path::PathBuf,
}

/// Runs `kiln run`.
pub fn execute(_device: &DeviceArgs, args: RunArgs) -> kiln::Result<ExitCode> {
    Err(kiln::Error::Unsupported {
        location: args.model.display().to_string(),
        detail: "kiln run is not built yet".into(),
    })
}
