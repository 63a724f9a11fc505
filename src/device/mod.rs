//! The wgpu context: backend and adapter choice, the device opened with the adapter's own limits,
//! the features kiln's kernels use, the pipeline cache and buffer pool, and the one command encoder
//! that every op records into until a result is read.

mod adapter;
mod backend;
mod buffer_pool;
mod pipeline_cache;
mod recorder;
mod shader;
pub mod timestamps;

use std::sync::{Arc, Mutex};

pub use adapter::{list_adapters, AdapterReport, Capabilities};
pub use backend::BackendChoice;
pub use buffer_pool::{size_class, BufferPool, GpuBuffer, PoolStats};
pub use pipeline_cache::{OverrideConstant, PipelineCache};
pub use recorder::Binding;
pub use shader::ShaderProgram;

use crate::error::{Error, Result};

/// How to choose the device.
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Which backend to search.
    pub backend: BackendChoice,
    /// An adapter-name substring (case-insensitive) or enumeration index; `None` takes the best.
    pub adapter: Option<String>,
}

impl GpuOptions {
    /// Options from `KILN_BACKEND` and `KILN_ADAPTER`.
    pub fn from_env() -> Result<Self> {
        Ok(GpuOptions {
            backend: BackendChoice::from_env()?,
            adapter: std::env::var("KILN_ADAPTER")
                .ok()
                .filter(|name| !name.trim().is_empty()),
        })
    }
}

/// An open GPU device with kiln's runtime state.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    capabilities: Capabilities,
    limits: wgpu::Limits,
    pipelines: PipelineCache,
    pool: BufferPool,
    encoder: Mutex<Option<wgpu::CommandEncoder>>,
    placeholder: wgpu::Buffer,
    device_error: Arc<Mutex<Option<String>>>,
}

impl Gpu {
    /// Opens the device chosen by `options`, requesting the adapter's own limits and every feature
    /// kiln can use that it has.
    pub fn new(options: &GpuOptions) -> Result<Self> {
        let (instance, adapter) =
            adapter::open_adapter(options.backend, options.adapter.as_deref())?;
        let info = adapter.get_info();
        let capabilities = Capabilities::of(&instance, &adapter);
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("kiln"),
            required_features: Capabilities::requested_features(&adapter),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|error| Error::RequestDevice {
            adapter: info.name.clone(),
            detail: error.to_string(),
        })?;
        let device_error = Arc::new(Mutex::new(None));
        let sink = device_error.clone();
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            log::error!("wgpu: {error}");
            let mut slot = sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            slot.get_or_insert_with(|| error.to_string());
        }));
        log::info!(
            "kiln device: {} ({:?}, {}), f16: {}, dot4: {}",
            info.name,
            info.backend,
            info.driver,
            capabilities.shader_f16,
            capabilities.packed_dot4
        );
        let placeholder = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kiln unused binding"),
            size: 256,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        Ok(Gpu {
            pool: BufferPool::new(device.clone()),
            pipelines: PipelineCache::new(),
            encoder: Mutex::new(None),
            device,
            queue,
            info,
            capabilities,
            limits,
            placeholder,
            device_error,
        })
    }

    /// Opens the device chosen by `KILN_BACKEND` and `KILN_ADAPTER`.
    pub fn from_env() -> Result<Self> {
        Self::new(&GpuOptions::from_env()?)
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// What the adapter reports about itself.
    pub fn info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The features kiln can use on this device.
    pub fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// The device's limits (the adapter's own).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// The compiled-pipeline cache.
    pub fn pipelines(&self) -> &PipelineCache {
        &self.pipelines
    }

    /// The buffer pool's counters.
    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// The pipeline for `program` with `constants`, compiled once. A program that needs f16 on a
    /// device without it is an [`Error::MissingFeature`].
    pub fn pipeline(
        &self,
        program: &ShaderProgram,
        constants: &[OverrideConstant],
    ) -> Result<Arc<wgpu::ComputePipeline>> {
        if program.needs_f16 && !self.capabilities.shader_f16 {
            return Err(Error::MissingFeature {
                adapter: self.info.name.clone(),
                feature: "SHADER_F16",
                hint: "use the packed-f16 kernels (F16Path::Packed), which need no device feature",
            });
        }
        self.pipelines.get(&self.device, program, constants)
    }

    fn take_device_error(&self) -> Result<()> {
        let mut slot = self
            .device_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match slot.take() {
            Some(message) => Err(Error::Gpu(message)),
            None => Ok(()),
        }
    }
}
