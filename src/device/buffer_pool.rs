//! The buffer pool: storage buffers are handed out in size classes and return to the pool when the
//! [`GpuBuffer`] that holds them is dropped, so repeated runs allocate nothing after the first.
//!
//! Reuse is safe inside one pending command encoder because kiln stages every upload through the
//! encoder (never `queue.write_buffer`), so a recycled buffer's writes stay in recording order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use crate::error::{Error, Result};

/// Usage of every pooled tensor buffer: read and written by shaders, copied in and out.
pub const TENSOR_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// The smallest buffer the pool hands out, in bytes.
const MIN_CLASS_BYTES: u64 = 256;

/// Counters that show whether the pool is doing its job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers created on the device.
    pub allocations: u64,
    /// Requests served from a returned buffer.
    pub reuses: u64,
    /// Bytes held by created buffers, in use or free.
    pub bytes_allocated: u64,
}

struct PoolState {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    stats: PoolStats,
}

/// A pool of storage buffers for one device.
pub struct BufferPool {
    device: wgpu::Device,
    state: Arc<Mutex<PoolState>>,
}

/// A storage buffer from the pool. `len_bytes` is what the caller asked for; the buffer itself may
/// be larger (its size class). Dropping it returns the buffer to the pool.
///
/// A buffer can also be a range of another ([`GpuBuffer::range`]): the bytes from `offset`, which
/// is how a tensor larger than one storage binding is bound one part at a time.
pub struct GpuBuffer {
    buffer: Option<wgpu::Buffer>,
    offset: u64,
    len_bytes: u64,
    pool: Weak<Mutex<PoolState>>,
}

impl GpuBuffer {
    /// The wgpu buffer.
    pub fn raw(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("buffer is present until drop")
    }

    /// The bytes asked for when it was acquired (a range's own length).
    pub fn len_bytes(&self) -> u64 {
        self.len_bytes
    }

    /// Where the bytes start in [`GpuBuffer::raw`]: 0, except for a range.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// `len_bytes` bytes of this buffer from `offset` (relative to this buffer's own start), as a
    /// buffer that shares the storage and never returns to the pool. A range must not outlive the
    /// buffer it was cut from: once that is dropped the pool may hand its storage to another
    /// tensor. A range past the end is an [`Error::InvalidArgument`].
    pub fn range(&self, offset: u64, len_bytes: u64) -> Result<GpuBuffer> {
        let end = offset.checked_add(len_bytes);
        if end.is_none_or(|end| end > self.len_bytes) {
            return Err(Error::InvalidArgument {
                op: "GpuBuffer::range",
                detail: format!(
                    "bytes {offset}..+{len_bytes} do not lie inside a buffer of {} bytes",
                    self.len_bytes
                ),
            });
        }
        Ok(GpuBuffer {
            buffer: self.buffer.clone(),
            offset: self.offset + offset,
            len_bytes,
            pool: Weak::new(),
        })
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        if let (Some(buffer), Some(state)) = (self.buffer.take(), self.pool.upgrade()) {
            let mut state = state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.free.entry(buffer.size()).or_default().push(buffer);
        }
    }
}

/// The size class for a request: the next of 1, 1.25, 1.5 or 1.75 times a power of two, so at most
/// a quarter of a buffer is wasted.
pub fn size_class(len_bytes: u64) -> u64 {
    let wanted = len_bytes.max(MIN_CLASS_BYTES);
    let power = wanted.next_power_of_two();
    let quarter = (power / 8).max(1);
    (power / 2..=power)
        .step_by(quarter as usize)
        .find(|&class| class >= wanted)
        .unwrap_or(power)
}

impl BufferPool {
    /// A pool that creates buffers on `device`.
    pub fn new(device: wgpu::Device) -> Self {
        BufferPool {
            device,
            state: Arc::new(Mutex::new(PoolState {
                free: HashMap::new(),
                stats: PoolStats::default(),
            })),
        }
    }

    /// A buffer of at least `len_bytes`, reused when one of its class is free.
    pub fn acquire(&self, len_bytes: u64) -> GpuBuffer {
        let class = size_class(len_bytes);
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let reused = state.free.get_mut(&class).and_then(Vec::pop);
        let buffer = match reused {
            Some(buffer) => {
                state.stats.reuses += 1;
                buffer
            }
            None => {
                state.stats.allocations += 1;
                state.stats.bytes_allocated += class;
                self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("kiln tensor"),
                    size: class,
                    usage: TENSOR_USAGE,
                    mapped_at_creation: false,
                })
            }
        };
        GpuBuffer {
            buffer: Some(buffer),
            offset: 0,
            len_bytes,
            pool: Arc::downgrade(&self.state),
        }
    }

    /// The pool's counters.
    pub fn stats(&self) -> PoolStats {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .stats
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_waste_at_most_a_quarter() {
        for len in [
            1u64,
            255,
            256,
            257,
            1000,
            4096,
            5000,
            1 << 20,
            (1 << 20) + 1,
            123_456_789,
        ] {
            let class = size_class(len);
            assert!(class >= len, "class {class} smaller than request {len}");
            assert!(class >= 256);
            assert!(
                len < 256 || (class as f64) <= (len as f64) * 1.25 + 1.0,
                "{len} -> {class}"
            );
            assert_eq!(class % 32, 0, "class {class} not a multiple of 32");
        }
    }

    #[test]
    fn equal_requests_share_a_class() {
        assert_eq!(size_class(1000), size_class(1001));
        assert_eq!(size_class(256), 256);
    }
}
