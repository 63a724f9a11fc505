//! Deferred checks of values computed on the GPU. A kernel that indexes with run-time data
//! (Gather's indices) cannot return an error, so it writes a small status buffer instead;
//! [`Gpu::check_after`] records a copy of that buffer into a mappable one (in recording order, so
//! nothing waits) and keeps a verdict that turns its words into an [`Error`]. Every
//! [`Gpu::synchronize`], and so every readback, reads the statuses its thread registered once
//! their work is done and fails with the first error: a bad index is the same error on the GPU
//! as on the CPU, raised when the result is read instead of silently written as zeros.
//!
//! A check moves from `recorded` to `submitted` when the encoder holding its copy is submitted
//! (under the encoder's lock), so a readback never maps a status whose copy has not run. Checks
//! belong to the thread that registered them: threads sharing a device (parallel tests, a
//! server) each get their own errors.

use crate::device::buffer_pool::GpuBuffer;
use crate::device::Gpu;
use crate::error::{Error, Result};

/// Turns a status buffer's words into an error, or `None` when all went well.
pub type Verdict = Box<dyn Fn(&[u32]) -> Option<Error> + Send>;

/// A status copied into `staging`, waiting for the work to finish.
struct PendingCheck {
    staging: wgpu::Buffer,
    verdict: Verdict,
    thread: std::thread::ThreadId,
}

/// The pending checks of one device.
#[derive(Default)]
pub(super) struct Checks {
    /// Copies recorded into the pending encoder, not yet submitted.
    recorded: Vec<PendingCheck>,
    /// Copies submitted: readable once the device is idle.
    submitted: Vec<PendingCheck>,
}

impl Checks {
    /// Marks every recorded check submitted (called under the encoder lock as it is submitted).
    pub(super) fn mark_submitted(&mut self) {
        self.submitted.append(&mut self.recorded);
    }
}

impl Gpu {
    /// Checks `status` (a buffer a kernel recorded so far writes) once the recorded work has run:
    /// at the next [`Gpu::synchronize`] or readback, `verdict` sees its words and any error it
    /// returns is that call's error. Nothing waits here.
    pub fn check_after(&self, status: &GpuBuffer, verdict: Verdict) {
        let len = status.len_bytes().div_ceil(4) * 4;
        if len == 0 {
            return;
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kiln status"),
            size: len,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        // Registered under the encoder's lock, so the next submit carries the copy.
        self.record(|encoder| {
            encoder.copy_buffer_to_buffer(status.raw(), status.offset(), &staging, 0, len);
            self.lock_checks().recorded.push(PendingCheck {
                staging,
                verdict,
                thread: std::thread::current().id(),
            });
        });
    }

    pub(super) fn lock_checks(&self) -> std::sync::MutexGuard<'_, Checks> {
        self.checks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads this thread's submitted statuses (their work must be done: called by `synchronize`
    /// after its wait), forgets them, and returns the first verdict's error.
    pub(super) fn run_checks(&self) -> Result<()> {
        let this_thread = std::thread::current().id();
        let pending: Vec<PendingCheck> = {
            let mut checks = self.lock_checks();
            let (mine, others) = std::mem::take(&mut checks.submitted)
                .into_iter()
                .partition(|check| check.thread == this_thread);
            checks.submitted = others;
            mine
        };
        if pending.is_empty() {
            return Ok(());
        }
        for check in &pending {
            check.staging.map_async(wgpu::MapMode::Read, .., |_| {});
        }
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|error| Error::Gpu(error.to_string()))?;
        let mut first_error = None;
        for check in pending {
            let words: Vec<u32> = {
                let view = check.staging.get_mapped_range(..).map_err(|error| {
                    Error::Gpu(format!("reading a status buffer failed: {error:?}"))
                })?;
                bytemuck::pod_collect_to_vec(&view)
            };
            check.staging.unmap();
            if first_error.is_none() {
                first_error = (check.verdict)(&words);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
