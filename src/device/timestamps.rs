//! GPU timestamps for the benchmark harness. A mark is an empty compute pass, recorded into the
//! pending encoder, that writes a timestamp when it ends; two marks around a kernel's recorded work
//! time that work on the GPU alone, without submission, queue or readback overhead. Pass
//! timestamps need only `TIMESTAMP_QUERY` (not `TIMESTAMP_QUERY_INSIDE_ENCODERS`). On Vulkan, wgpu
//! writes them at the bottom of the pipe, so a mark waits for the work recorded before it.

use crate::device::Gpu;
use crate::error::{Error, Result};

/// A query set of timestamp marks and the buffers that read them back.
pub struct TimestampQueries {
    query_set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    capacity: u32,
    written: u32,
    nanoseconds_per_tick: f64,
}

impl TimestampQueries {
    /// Room for `capacity` marks (clamped to 2..=[`wgpu::QUERY_SET_MAX_QUERIES`]), or `None` when
    /// the device has no `TIMESTAMP_QUERY`.
    pub fn new(gpu: &Gpu, capacity: u32) -> Option<Self> {
        if !gpu.capabilities().timestamps {
            return None;
        }
        let capacity = capacity.clamp(2, wgpu::QUERY_SET_MAX_QUERIES);
        let device = gpu.device();
        let query_set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("kiln timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: capacity,
        });
        let bytes = u64::from(capacity) * u64::from(wgpu::QUERY_SIZE);
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        Some(TimestampQueries {
            query_set,
            resolve: buffer(
                "kiln timestamp resolve",
                wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            ),
            readback: buffer(
                "kiln timestamp readback",
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ),
            capacity,
            written: 0,
            nanoseconds_per_tick: f64::from(gpu.queue.get_timestamp_period()),
        })
    }

    /// Marks that can still be recorded before [`TimestampQueries::read`] empties the set.
    pub fn remaining(&self) -> u32 {
        self.capacity - self.written
    }

    /// Records a mark after everything recorded so far. A full set is an
    /// [`Error::InvalidArgument`]: read it first.
    pub fn mark(&mut self, gpu: &Gpu) -> Result<()> {
        if self.written == self.capacity {
            return Err(Error::InvalidArgument {
                op: "timestamp mark",
                detail: format!("all {} marks are used; read them first", self.capacity),
            });
        }
        let index = self.written;
        gpu.record(|encoder| {
            encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("kiln timestamp mark"),
                timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                    query_set: &self.query_set,
                    beginning_of_pass_write_index: None,
                    end_of_pass_write_index: Some(index),
                }),
            });
        });
        self.written += 1;
        Ok(())
    }

    /// Submits pending work, waits for it, and returns every mark recorded since the last read, in
    /// nanoseconds from an arbitrary origin; the set is then empty again.
    pub fn read(&mut self, gpu: &Gpu) -> Result<Vec<f64>> {
        let count = std::mem::take(&mut self.written);
        if count == 0 {
            return Ok(Vec::new());
        }
        let bytes = u64::from(count) * u64::from(wgpu::QUERY_SIZE);
        gpu.record(|encoder| {
            encoder.resolve_query_set(&self.query_set, 0..count, &self.resolve, 0);
            encoder.copy_buffer_to_buffer(&self.resolve, 0, &self.readback, 0, bytes);
        });
        gpu.submit();
        let (sender, receiver) = std::sync::mpsc::channel();
        self.readback
            .map_async(wgpu::MapMode::Read, ..bytes, move |result| {
                let _ = sender.send(result);
            });
        gpu.synchronize()?;
        receiver
            .recv()
            .map_err(|_| Error::Gpu("timestamp readback callback never ran".into()))?
            .map_err(|error| Error::Gpu(format!("mapping the timestamps failed: {error}")))?;
        let ticks: Vec<u64> = {
            let view = self.readback.get_mapped_range(..bytes).map_err(|error| {
                Error::Gpu(format!("reading the mapped timestamps failed: {error:?}"))
            })?;
            bytemuck::pod_collect_to_vec(&view)
        };
        self.readback.unmap();
        Ok(ticks
            .into_iter()
            .map(|tick| tick as f64 * self.nanoseconds_per_tick)
            .collect())
    }
}

/// The durations between consecutive pairs of marks (start, end, start, end, ...), in seconds;
/// `None` for a pair whose end precedes its start (a driver that reset or wrapped its counter).
pub fn pair_durations(marks_ns: &[f64]) -> Vec<Option<f64>> {
    marks_ns
        .chunks_exact(2)
        .map(|pair| (pair[1] >= pair[0]).then(|| (pair[1] - pair[0]) * 1e-9))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::pair_durations;

    #[test]
    fn pairs_become_seconds_and_backward_pairs_are_dropped() {
        let marks = [1_000.0, 3_500.0, 10_000.0, 9_000.0, 5.0];
        assert_eq!(pair_durations(&marks), vec![Some(2.5e-6), None]);
    }
}
