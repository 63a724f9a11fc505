//! The subcommands of the `kiln` binary, one module each.

pub mod bench;
pub mod convert;
pub mod detect;
pub mod info;
pub mod inspect;
pub mod run;

use kiln::device::{BackendChoice, Gpu, GpuOptions};

/// The global device options every subcommand shares.
pub struct DeviceArgs {
    /// `--backend` as typed (`auto`, `vulkan`, ..., or a comma list for commands that take several).
    pub backend_text: String,
    /// The parsed backend choice.
    pub backend: BackendChoice,
    /// `--adapter`: a name substring or index.
    pub adapter: Option<String>,
}

impl DeviceArgs {
    /// Opens the chosen device.
    pub fn open(&self) -> kiln::Result<Gpu> {
        Gpu::new(&GpuOptions {
            backend: self.backend,
            adapter: self.adapter.clone(),
        })
    }
}
