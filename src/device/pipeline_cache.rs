//! The pipeline cache: each (shader program, override constants) pair is compiled once per device
//! and shared afterwards.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::device::shader::ShaderProgram;
use crate::error::{Error, Result};

/// A pipeline-overridable constant: its WGSL name and value.
pub type OverrideConstant = (&'static str, f64);

type CacheKey = (&'static str, Vec<(&'static str, u64)>);

/// Compiled compute pipelines keyed by program name and override values.
pub struct PipelineCache {
    pipelines: Mutex<HashMap<CacheKey, Arc<wgpu::ComputePipeline>>>,
}

impl PipelineCache {
    /// An empty cache.
    pub fn new() -> Self {
        PipelineCache {
            pipelines: Mutex::new(HashMap::new()),
        }
    }

    /// How many distinct pipelines have been compiled.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing has been compiled yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pipeline for `program` with `constants`, compiled on first use. Compilation errors come
    /// back as [`Error::Shader`] instead of wgpu's default panic.
    pub fn get(
        &self,
        device: &wgpu::Device,
        program: &ShaderProgram,
        constants: &[OverrideConstant],
    ) -> Result<Arc<wgpu::ComputePipeline>> {
        let mut sorted: Vec<(&'static str, u64)> = constants
            .iter()
            .map(|(name, value)| (*name, value.to_bits()))
            .collect();
        sorted.sort_unstable();
        let key = (program.name, sorted);
        if let Some(pipeline) = self.lock().get(&key) {
            return Ok(pipeline.clone());
        }
        let pipeline = Arc::new(compile(device, program, constants)?);
        self.lock().insert(key, pipeline.clone());
        Ok(pipeline)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Arc<wgpu::ComputePipeline>>> {
        self.pipelines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for PipelineCache {
    fn default() -> Self {
        Self::new()
    }
}

fn compile(
    device: &wgpu::Device,
    program: &ShaderProgram,
    constants: &[OverrideConstant],
) -> Result<wgpu::ComputePipeline> {
    log::debug!("compiling shader '{}' with {constants:?}", program.name);
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let source = program.source();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(program.name),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(program.name),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants,
            zero_initialize_workgroup_memory: false,
        },
        cache: None,
    });
    match pollster::block_on(scope.pop()) {
        None => Ok(pipeline),
        Some(error) => Err(Error::Shader {
            name: program.name.to_string(),
            detail: error.to_string(),
        }),
    }
}
