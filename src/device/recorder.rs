//! Recording and readback: ops record uploads and dispatches into one pending command encoder; it is
//! submitted once, when a result is read or [`Gpu::synchronize`] is called.

use wgpu::util::DeviceExt;

use crate::device::buffer_pool::{size_class, GpuBuffer};
use crate::device::Gpu;
use crate::error::{Error, Result};

/// What one binding slot of a dispatch holds.
pub enum Binding<'a> {
    /// A pooled storage buffer.
    Storage(&'a GpuBuffer),
    /// A small uniform block, copied into a fresh uniform buffer.
    Uniform(&'a [u8]),
    /// A read-only storage slot the kernel declares but this variant never reads (for example the
    /// bias when there is none); bound to a small placeholder buffer.
    Unused,
}

fn align4(len: u64) -> u64 {
    len.div_ceil(4) * 4
}

impl Gpu {
    pub(super) fn record<R>(&self, step: impl FnOnce(&mut wgpu::CommandEncoder) -> R) -> R {
        let mut slot = self
            .encoder
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let encoder = slot.get_or_insert_with(|| {
            self.device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("kiln ops"),
                })
        });
        step(encoder)
    }

    /// A storage buffer of `len_bytes` from the pool, after checking the device's `max_buffer_size`.
    /// A buffer may be larger than one storage binding ([`Gpu::max_binding_bytes`]): kernels that
    /// can bind it in parts do; binding it whole is an [`Error::TensorTooLarge`] at dispatch.
    pub fn alloc(&self, len_bytes: u64) -> Result<GpuBuffer> {
        let limit = self.limits.max_buffer_size;
        if size_class(len_bytes) > limit {
            return Err(Error::LimitExceeded {
                what: "a buffer (max_buffer_size)",
                requested: len_bytes,
                limit,
            });
        }
        Ok(self.pool.acquire(len_bytes))
    }

    /// Copies `bytes` into a new pooled buffer. The copy is recorded in the pending encoder, so it
    /// is ordered with the ops around it.
    pub fn upload_bytes(&self, bytes: &[u8]) -> Result<GpuBuffer> {
        let buffer = self.alloc(bytes.len() as u64)?;
        let padded_len = align4(bytes.len() as u64);
        if padded_len == 0 {
            return Ok(buffer);
        }
        // Copy only to pad to whole words: a weight of hundreds of MB is not duplicated.
        let padded: std::borrow::Cow<'_, [u8]> = if bytes.len() as u64 == padded_len {
            bytes.into()
        } else {
            let mut padded = bytes.to_vec();
            padded.resize(padded_len as usize, 0);
            padded.into()
        };
        let staging = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("kiln upload"),
                contents: &padded,
                usage: wgpu::BufferUsages::COPY_SRC,
            });
        self.record(|encoder| {
            encoder.copy_buffer_to_buffer(&staging, 0, buffer.raw(), 0, padded_len);
        });
        Ok(buffer)
    }

    /// Sets the first `len_bytes` (rounded up to 4) of `buffer` to zero, in recording order.
    pub fn clear(&self, buffer: &GpuBuffer) {
        let len = align4(buffer.len_bytes());
        if len > 0 {
            self.record(|encoder| encoder.clear_buffer(buffer.raw(), buffer.offset(), Some(len)));
        }
    }

    /// Records one dispatch of `pipeline` with `bindings` (slot number, contents) in group 0.
    pub fn dispatch(
        &self,
        pipeline: &wgpu::ComputePipeline,
        bindings: &[(u32, Binding<'_>)],
        workgroups: [u32; 3],
    ) -> Result<()> {
        let limit = self.limits.max_compute_workgroups_per_dimension;
        if let Some(&count) = workgroups.iter().find(|&&count| count > limit) {
            return Err(Error::LimitExceeded {
                what: "a dispatch's workgroups in one dimension",
                requested: u64::from(count),
                limit: u64::from(limit),
            });
        }
        if workgroups.contains(&0) {
            return Ok(());
        }
        let uniforms: Vec<(u32, wgpu::Buffer)> = bindings
            .iter()
            .filter_map(|(slot, binding)| match binding {
                Binding::Uniform(bytes) => Some((*slot, self.uniform_buffer(bytes))),
                _ => None,
            })
            .collect();
        let entries = bindings
            .iter()
            .map(|(slot, binding)| {
                let resource = match binding {
                    Binding::Storage(buffer) => self.storage_binding(*slot, buffer)?,
                    Binding::Unused => self.placeholder.as_entire_buffer_binding(),
                    Binding::Uniform(_) => {
                        let uniform = uniforms.iter().find(|(s, _)| s == slot);
                        uniform.expect("made above").1.as_entire_buffer_binding()
                    }
                };
                Ok(wgpu::BindGroupEntry {
                    binding: *slot,
                    resource: wgpu::BindingResource::Buffer(resource),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        self.record(|encoder| {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(workgroups[0], workgroups[1], workgroups[2]);
        });
        Ok(())
    }

    /// The binding of `buffer` at `slot`: the whole pooled buffer (its size class) when that fits
    /// one binding, else just its bytes; a range is bound at its offset. Bytes beyond
    /// [`Gpu::max_binding_bytes`] are an [`Error::TensorTooLarge`], a misaligned range offset an
    /// [`Error::InvalidArgument`].
    fn storage_binding<'b>(
        &self,
        slot: u32,
        buffer: &'b GpuBuffer,
    ) -> Result<wgpu::BufferBinding<'b>> {
        let limit = self.max_binding_bytes;
        let len = align4(buffer.len_bytes()).max(4);
        if len > limit {
            return Err(Error::TensorTooLarge {
                location: "a kernel dispatch".into(),
                tensor: format!("the tensor bound at slot {slot}"),
                bytes: buffer.len_bytes(),
                limit,
            });
        }
        if !buffer
            .offset()
            .is_multiple_of(self.binding_offset_alignment())
        {
            return Err(Error::InvalidArgument {
                op: "Gpu::dispatch",
                detail: format!(
                    "slot {slot} binds from byte {}, not a multiple of the device's storage \
                     offset alignment {}",
                    buffer.offset(),
                    self.binding_offset_alignment()
                ),
            });
        }
        let whole = buffer.offset() == 0 && buffer.raw().size() <= limit;
        Ok(wgpu::BufferBinding {
            buffer: buffer.raw(),
            offset: buffer.offset(),
            size: if whole {
                None
            } else {
                std::num::NonZeroU64::new(len)
            },
        })
    }

    fn uniform_buffer(&self, bytes: &[u8]) -> wgpu::Buffer {
        let mut padded = bytes.to_vec();
        padded.resize(bytes.len().div_ceil(16).max(1) * 16, 0);
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("kiln params"),
                contents: &padded,
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    /// Submits everything recorded so far without waiting.
    pub fn submit(&self) {
        // The lock is held through `queue.submit`: otherwise another thread could record into a
        // fresh encoder and submit it first, reordering work on recycled pool buffers.
        let mut slot = self
            .encoder
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(encoder) = slot.take() {
            self.queue.submit([encoder.finish()]);
            self.lock_checks().mark_submitted();
        }
    }

    /// Submits everything recorded and waits until the GPU has finished it; then the pending
    /// status checks ([`Gpu::check_after`]) run, and the first failed one is the error.
    pub fn synchronize(&self) -> Result<()> {
        self.submit();
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|error| Error::Gpu(error.to_string()))?;
        self.take_device_error()?;
        self.run_checks()
    }

    /// Submits pending work and reads back the first `len_bytes()` bytes of `buffer`.
    pub fn read_bytes(&self, buffer: &GpuBuffer) -> Result<Vec<u8>> {
        let len = buffer.len_bytes();
        let padded_len = align4(len);
        if padded_len == 0 {
            return Ok(Vec::new());
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kiln readback"),
            size: padded_len,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.record(|encoder| {
            encoder.copy_buffer_to_buffer(buffer.raw(), buffer.offset(), &staging, 0, padded_len)
        });
        self.submit();
        let (sender, receiver) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = sender.send(result);
        });
        self.synchronize()?;
        receiver
            .recv()
            .map_err(|_| Error::Gpu("readback callback never ran".into()))?
            .map_err(|error| Error::Gpu(format!("mapping the readback buffer failed: {error}")))?;
        let bytes = {
            let view = staging.get_mapped_range(..).map_err(|error| {
                Error::Gpu(format!("reading the mapped buffer failed: {error:?}"))
            })?;
            view[..len as usize].to_vec()
        };
        staging.unmap();
        Ok(bytes)
    }
}
