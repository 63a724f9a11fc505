//! `kiln detect model image...`: finds objects and draws their boxes.

use std::process::ExitCode;

use crate::cli::DeviceArgs;

/// Arguments of `kiln detect`.
#[derive(clap::Args)]
pub struct DetectArgs {
    /// The detection model.
    pub model: std::path::PathBuf,
}

/// Runs `kiln detect`.
pub fn execute(_device: &DeviceArgs, args: DetectArgs) -> kiln::Result<ExitCode> {
    Err(kiln::Error::Unsupported {
        location: args.model.display().to_string(),
        detail: "kiln detect is not built yet".into(),
    })
}
