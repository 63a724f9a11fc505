//! The wgpu context: backend and adapter choice, the device opened with the adapter's own limits,
//! the features kiln's kernels use, the pipeline cache and buffer pool, and the one command encoder
//! that every op records into until a result is read.

mod adapter;
mod backend;
mod buffer_pool;
mod checks;
mod pipeline_cache;
mod recorder;
mod shader;
pub mod timestamps;

use std::sync::{Arc, Mutex};

pub use adapter::{list_adapters, AdapterReport, Capabilities};
pub use backend::BackendChoice;
pub use buffer_pool::{size_class, BufferPool, GpuBuffer, PoolStats};
pub use checks::Verdict;
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
    max_binding_bytes: u64,
    pipelines: PipelineCache,
    pool: BufferPool,
    encoder: Mutex<Option<wgpu::CommandEncoder>>,
    placeholder: wgpu::Buffer,
    device_error: Arc<Mutex<Option<String>>>,
    checks: Mutex<checks::Checks>,
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
        let max_binding_bytes = binding_limit(&limits, binding_limit_from_env()?);
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
            max_binding_bytes,
            placeholder,
            device_error,
            checks: Mutex::new(checks::Checks::default()),
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

    /// The most bytes one storage binding may hold: the adapter's
    /// `max_storage_buffer_binding_size`, or less when `KILN_MAX_BINDING_BYTES` or
    /// [`Gpu::with_max_binding_bytes`] asked for less (tests use that to split small tensors).
    /// Tensors larger than this are split across bindings by the kernels that can (MatMul and
    /// Gemm weights) and are an [`Error::TensorTooLarge`] elsewhere.
    pub fn max_binding_bytes(&self) -> u64 {
        self.max_binding_bytes
    }

    /// This device with storage bindings limited to `bytes`, clamped to the adapter's own limit and
    /// rounded down to the storage offset alignment (and at least [`MIN_BINDING_BYTES`]). A
    /// lower limit exercises the split-binding paths on small shapes.
    pub fn with_max_binding_bytes(mut self, bytes: u64) -> Self {
        self.max_binding_bytes = binding_limit(&self.limits, Some(bytes));
        self
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

    /// The alignment, in bytes, of a storage binding's offset (the adapter's
    /// `min_storage_buffer_offset_alignment`): where a tensor may be split across bindings.
    pub fn binding_offset_alignment(&self) -> u64 {
        u64::from(self.limits.min_storage_buffer_offset_alignment)
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

/// The smallest binding limit a caller may ask for: small enough to split a 300 KB test weight into
/// many parts, large enough for every uniform-sized operand a kernel binds whole.
pub const MIN_BINDING_BYTES: u64 = 4096;

/// `KILN_MAX_BINDING_BYTES` (a byte count), when set: a lower storage-binding limit for tests.
fn binding_limit_from_env() -> Result<Option<u64>> {
    let Ok(text) = std::env::var("KILN_MAX_BINDING_BYTES") else {
        return Ok(None);
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| Error::InvalidArgument {
        op: "KILN_MAX_BINDING_BYTES",
        detail: format!("'{text}' is not a byte count"),
    })
}

/// The storage-binding limit: the adapter's, or `requested` when lower, rounded down to the offset
/// alignment and no lower than [`MIN_BINDING_BYTES`] (nor above the adapter's).
fn binding_limit(limits: &wgpu::Limits, requested: Option<u64>) -> u64 {
    let adapter_limit = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size);
    let Some(requested) = requested else {
        return adapter_limit;
    };
    let alignment = u64::from(limits.min_storage_buffer_offset_alignment).max(4);
    let aligned = requested / alignment * alignment;
    aligned.max(MIN_BINDING_BYTES).min(adapter_limit)
}

#[cfg(test)]
mod tests {
    use super::{binding_limit, MIN_BINDING_BYTES};

    #[test]
    fn binding_limit_is_the_adapters_unless_lowered() {
        let limits = wgpu::Limits {
            max_storage_buffer_binding_size: 128 << 20,
            max_buffer_size: 1 << 32,
            min_storage_buffer_offset_alignment: 256,
            ..wgpu::Limits::default()
        };
        assert_eq!(binding_limit(&limits, None), 128 << 20);
        assert_eq!(binding_limit(&limits, Some(1 << 40)), 128 << 20);
        assert_eq!(binding_limit(&limits, Some(65_600)), 65_536);
        assert_eq!(binding_limit(&limits, Some(10)), MIN_BINDING_BYTES);
    }
}
