//! Finding adapters: enumerate them on the chosen backends, filter by `KILN_ADAPTER`, rank them, and
//! describe each one (for `kiln info`).

use crate::device::backend::BackendChoice;
use crate::error::{Error, Result};

/// The features kiln's kernels can use, read off one adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// `SHADER_F16`: WGSL `enable f16;` with 16-bit storage.
    pub shader_f16: bool,
    /// `SUBGROUP`: WGSL subgroup operations.
    pub subgroups: bool,
    /// `TIMESTAMP_QUERY`: GPU timestamps around passes.
    pub timestamps: bool,
    /// WGSL's `packed_4x8_integer_dot_product` language feature (`dot4I8Packed`).
    pub packed_dot4: bool,
    /// `EXPERIMENTAL_COOPERATIVE_MATRIX`: tensor-core tiles from WGSL.
    pub cooperative_matrix: bool,
}

impl Capabilities {
    /// Reads the capabilities of `adapter`, created from `instance`.
    pub fn of(instance: &wgpu::Instance, adapter: &wgpu::Adapter) -> Self {
        let features = adapter.features();
        Capabilities {
            shader_f16: features.contains(wgpu::Features::SHADER_F16),
            subgroups: features.contains(wgpu::Features::SUBGROUP),
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            packed_dot4: instance
                .wgsl_language_features()
                .contains(wgpu::WgslLanguageFeatures::Packed4x8IntegerDotProduct),
            cooperative_matrix: features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX),
        }
    }

    /// The device features kiln requests when they are present.
    pub fn requested_features(adapter: &wgpu::Adapter) -> wgpu::Features {
        adapter.features()
            & (wgpu::Features::SHADER_F16
                | wgpu::Features::SUBGROUP
                | wgpu::Features::TIMESTAMP_QUERY
                | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS)
    }
}

/// One adapter as `kiln info` prints it.
#[derive(Clone, Debug)]
pub struct AdapterReport {
    /// Position in the enumeration, usable as `KILN_ADAPTER=<index>`.
    pub index: usize,
    /// What wgpu reports about the adapter.
    pub info: wgpu::AdapterInfo,
    /// The features kiln can use on it.
    pub capabilities: Capabilities,
    /// Its limits (kiln requests exactly these).
    pub limits: wgpu::Limits,
}

/// Creates a wgpu instance for `backend`.
pub fn create_instance(backend: BackendChoice) -> wgpu::Instance {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
    descriptor.backends = backend.backends();
    wgpu::Instance::new(descriptor)
}

/// The instance and adapter for `backend` and `filter` (see [`select_adapter`]). `Auto` searches
/// the native APIs (Vulkan, Metal, DX12) first and starts GL only when none of them has a matching
/// adapter: GL's EGL start-up is slow and prints platform warnings, and a native adapter is
/// preferred anyway.
pub fn open_adapter(
    backend: BackendChoice,
    filter: Option<&str>,
) -> Result<(wgpu::Instance, wgpu::Adapter)> {
    if backend == BackendChoice::Auto {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
        descriptor.backends = wgpu::Backends::all() - wgpu::Backends::GL;
        let native = wgpu::Instance::new(descriptor);
        if let Ok(adapter) = select_adapter(&native, backend, filter) {
            return Ok((native, adapter));
        }
    }
    let instance = create_instance(backend);
    let adapter = select_adapter(&instance, backend, filter)?;
    Ok((instance, adapter))
}

/// Every adapter on `backend`, as reports.
pub fn list_adapters(backend: BackendChoice) -> Vec<AdapterReport> {
    let instance = create_instance(backend);
    let adapters = pollster::block_on(instance.enumerate_adapters(backend.backends()));
    adapters
        .iter()
        .enumerate()
        .map(|(index, adapter)| AdapterReport {
            index,
            info: adapter.get_info(),
            capabilities: Capabilities::of(&instance, adapter),
            limits: adapter.limits(),
        })
        .collect()
}

/// Picks the adapter for `backend` whose name contains `filter` (case-insensitive) or whose
/// enumeration index equals it; without a filter, the best ranked one (discrete before integrated
/// before CPU; native APIs before GL).
pub fn select_adapter(
    instance: &wgpu::Instance,
    backend: BackendChoice,
    filter: Option<&str>,
) -> Result<wgpu::Adapter> {
    let adapters = pollster::block_on(instance.enumerate_adapters(backend.backends()));
    let candidates: Vec<(usize, wgpu::Adapter)> = adapters
        .into_iter()
        .enumerate()
        .filter(|(index, adapter)| filter.is_none_or(|f| matches_filter(*index, adapter, f)))
        .collect();
    candidates
        .into_iter()
        .max_by_key(|(index, adapter)| (rank(&adapter.get_info()), std::cmp::Reverse(*index)))
        .map(|(_, adapter)| adapter)
        .ok_or_else(|| Error::NoAdapter {
            backend: backend.to_string(),
            filter: filter.unwrap_or("none").to_string(),
            hint: no_adapter_hint(backend, filter),
        })
}

fn matches_filter(index: usize, adapter: &wgpu::Adapter, filter: &str) -> bool {
    match filter.trim().parse::<usize>() {
        Ok(wanted) => wanted == index,
        Err(_) => adapter
            .get_info()
            .name
            .to_ascii_lowercase()
            .contains(&filter.trim().to_ascii_lowercase()),
    }
}

fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let device_type = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 4,
        wgpu::DeviceType::IntegratedGpu => 3,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 1,
        wgpu::DeviceType::Other => 0,
    };
    let native_api = u8::from(info.backend != wgpu::Backend::Gl);
    (device_type, native_api)
}

fn no_adapter_hint(backend: BackendChoice, filter: Option<&str>) -> String {
    if let Some(filter) = filter {
        return format!(
            "No adapter matches '{filter}' (a name substring or an index from `kiln info`); \
             `kiln info` lists the adapters, and leaving KILN_ADAPTER unset takes the best one."
        );
    }
    let mut hint = String::from(
        "Install a GPU driver, or a software one: on Debian/Ubuntu `apt-get install \
         mesa-vulkan-drivers` gives lavapipe (Vulkan on the CPU). `kiln info` lists what is found.",
    );
    if backend != BackendChoice::Auto {
        hint.push_str(" Try --backend auto to search every backend.");
    }
    hint
}
