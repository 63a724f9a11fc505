//! The device's roofline, measured in the same run as the kernels it judges: a copy kernel for the
//! bandwidth roof and an FMA-chain kernel for the arithmetic roof (`shaders/bench_*.wgsl`). Each
//! problem grows (doubling) until one run takes at least `target_seconds`, so the same code fills
//! lavapipe and a datacenter GPU, then is timed like any benchmark and its p50 taken. On the CPU
//! backend the same two measurements run as plain Rust on one thread, the way kiln's references
//! run: a slice copy, and sixteen independent f64 multiply-add chains (the references compute in
//! f64).

use crate::bench::measure::{time_gpu, IterationSettings, TimingSource};
use crate::bench::report::Roofline;
use crate::device::timestamps::TimestampQueries;
use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::Result;

/// The copy kernel.
pub const BANDWIDTH: ShaderProgram = ShaderProgram {
    name: "bench_bandwidth",
    parts: &[include_str!("../../shaders/bench_bandwidth.wgsl")],
    needs_f16: false,
};

/// The FMA-chain kernel.
pub const FMA: ShaderProgram = ShaderProgram {
    name: "bench_fma",
    parts: &[include_str!("../../shaders/bench_fma.wgsl")],
    needs_f16: false,
};

/// The roofline kernels.
pub const PROGRAMS: &[&ShaderProgram] = &[&BANDWIDTH, &FMA];

/// `WORKGROUP_SIZE` of both kernels.
const WORKGROUP_SIZE: u64 = 256;
/// `ITERATIONS` of the FMA kernel: FMA steps per invocation.
const FMA_ITERATIONS: u64 = 256;
/// FLOP per FMA step of one invocation: 4 vec4 chains × 4 lanes × 2.
const FLOP_PER_STEP: u64 = 32;
/// The copy kernel's grid stops growing here; larger copies loop inside each invocation.
const MAX_COPY_WORKGROUPS: u64 = 4096;
/// The largest copy source (and destination) the bandwidth search tries.
const MAX_COPY_BYTES: u64 = 256 << 20;

/// How long the roofline problems run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RooflineSettings {
    /// A problem grows until one run takes at least this long (or reaches its size limit).
    pub target_seconds: f64,
    /// Warm-up and timed runs of the final problem.
    pub iterations: IterationSettings,
}

impl Default for RooflineSettings {
    fn default() -> Self {
        RooflineSettings {
            target_seconds: 0.01,
            iterations: IterationSettings {
                warmup: 2,
                iterations: 10,
            },
        }
    }
}

/// Doubles `size` from `start` until `seconds(size)` reaches `target` or `size` reaches `limit`;
/// returns the size reached.
fn grow(
    start: u64,
    limit: u64,
    target: f64,
    mut seconds: impl FnMut(u64) -> Result<f64>,
) -> Result<u64> {
    let mut size = start.min(limit);
    while size < limit && seconds(size)? < target {
        size = (size * 2).min(limit);
    }
    Ok(size)
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct CopyParams {
    count: u32,
    grid_stride: u32,
    pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FmaParams {
    impossible: f32,
    pad: [u32; 3],
}

/// One run of the copy kernel over `count` vec4 elements, recorded by the returned closure.
fn copy_run(gpu: &Gpu, count: u64) -> Result<impl FnMut() -> Result<()> + '_> {
    let pipeline = gpu.pipeline(&BANDWIDTH, &[])?;
    let source = gpu.alloc(count * 16)?;
    let destination = gpu.alloc(count * 16)?;
    let groups = count.div_ceil(WORKGROUP_SIZE).min(MAX_COPY_WORKGROUPS);
    let params = CopyParams {
        count: count as u32,
        grid_stride: (groups * WORKGROUP_SIZE) as u32,
        pad: [0; 2],
    };
    Ok(move || {
        let bindings = [
            (0, Binding::Uniform(bytemuck::bytes_of(&params))),
            (1, Binding::Storage(&source)),
            (2, Binding::Storage(&destination)),
        ];
        gpu.dispatch(&pipeline, &bindings, [groups as u32, 1, 1])
    })
}

/// One run of the FMA kernel on `groups` workgroups, recorded by the returned closure.
fn fma_run(gpu: &Gpu, groups: u64) -> Result<impl FnMut() -> Result<()> + '_> {
    let pipeline = gpu.pipeline(&FMA, &[("ITERATIONS", FMA_ITERATIONS as f64)])?;
    let sink = gpu.alloc(4)?;
    let params = FmaParams {
        impossible: -1.0,
        pad: [0; 3],
    };
    Ok(move || {
        let bindings = [
            (0, Binding::Uniform(bytemuck::bytes_of(&params))),
            (1, Binding::Storage(&sink)),
        ];
        gpu.dispatch(&pipeline, &bindings, [groups as u32, 1, 1])
    })
}

/// Measures the roofline of `gpu`, timing with `timestamps` where given.
pub fn measure_gpu(
    gpu: &Gpu,
    settings: &RooflineSettings,
    mut timestamps: Option<&mut TimestampQueries>,
) -> Result<Roofline> {
    let mut p50 = |record: &mut dyn FnMut() -> Result<()>, iterations| -> Result<(f64, bool)> {
        let timings = time_gpu(gpu, &iterations, timestamps.as_deref_mut(), record)?;
        let latency = timings.summarize()?;
        let from_gpu = latency.primary == TimingSource::GpuTimestamps;
        Ok((latency.primary_summary().p50, from_gpu))
    };
    let probe = IterationSettings {
        warmup: 1,
        iterations: 1,
    };
    let target = settings.target_seconds;
    let limits = gpu.limits();
    let copy_limit = MAX_COPY_BYTES
        .min(limits.max_storage_buffer_binding_size)
        .min(limits.max_buffer_size)
        / 16;
    let count = grow(1 << 16, copy_limit, target, |count| {
        Ok(p50(&mut copy_run(gpu, count)?, probe)?.0)
    })?;
    let (copy_seconds, copy_on_gpu) = p50(&mut copy_run(gpu, count)?, settings.iterations)?;
    let group_limit = u64::from(limits.max_compute_workgroups_per_dimension);
    let groups = grow(8, group_limit, target, |groups| {
        Ok(p50(&mut fma_run(gpu, groups)?, probe)?.0)
    })?;
    let (fma_seconds, fma_on_gpu) = p50(&mut fma_run(gpu, groups)?, settings.iterations)?;
    let flop = groups * WORKGROUP_SIZE * FMA_ITERATIONS * FLOP_PER_STEP;
    Ok(Roofline {
        bandwidth_gb_per_s: (2 * 16 * count) as f64 / copy_seconds / 1e9,
        compute_gflop_per_s: flop as f64 / fma_seconds / 1e9,
        timing: if copy_on_gpu && fma_on_gpu {
            TimingSource::GpuTimestamps
        } else {
            TimingSource::WallClock
        },
    })
}

/// Median seconds of `iterations` runs of `run` after its warm-up runs.
fn cpu_p50(iterations: &IterationSettings, mut run: impl FnMut()) -> Result<f64> {
    let timings = crate::bench::measure::time_cpu(iterations, || {
        run();
        Ok(())
    })?;
    Ok(timings.summarize()?.wall.p50)
}

/// One thread's f64 multiply-add chains: 16 independent chains of `steps` steps, 2 FLOP each.
fn multiply_add_chains(steps: u64) -> f64 {
    let mut chains: [f64; 16] = std::array::from_fn(|i| i as f64 * 0.01);
    let scale = std::hint::black_box(0.999);
    let offset = std::hint::black_box(0.001);
    for _ in 0..steps {
        for value in &mut chains {
            *value = *value * scale + offset;
        }
    }
    chains.iter().sum()
}

/// Measures the roofline of one host thread, as the CPU references run.
pub fn measure_cpu(settings: &RooflineSettings) -> Result<Roofline> {
    let probe = IterationSettings {
        warmup: 0,
        iterations: 1,
    };
    let target = settings.target_seconds;
    let copy_seconds = |len: u64, iterations: &IterationSettings| {
        let source = vec![1.0f32; len as usize];
        let mut destination = vec![0.0f32; len as usize];
        cpu_p50(iterations, || {
            destination.copy_from_slice(std::hint::black_box(&source));
            std::hint::black_box(&mut destination);
        })
    };
    let len = grow(1 << 16, MAX_COPY_BYTES / 4, target, |len| {
        copy_seconds(len, &probe)
    })?;
    let copy = copy_seconds(len, &settings.iterations)?;
    let chain_seconds = |steps: u64, iterations: &IterationSettings| {
        cpu_p50(iterations, || {
            std::hint::black_box(multiply_add_chains(std::hint::black_box(steps)));
        })
    };
    let steps = grow(1 << 10, 1 << 32, target, |steps| {
        chain_seconds(steps, &probe)
    })?;
    let chains = chain_seconds(steps, &settings.iterations)?;
    Ok(Roofline {
        bandwidth_gb_per_s: (8 * len) as f64 / copy / 1e9,
        compute_gflop_per_s: (32 * steps) as f64 / chains / 1e9,
        timing: TimingSource::WallClock,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_doubles_until_the_target_or_the_limit() {
        let reached = grow(4, 1000, 0.5, |size| Ok(size as f64 / 100.0)).unwrap();
        assert_eq!(reached, 64, "4 → 64: the first size taking ≥ 0.5 s");
        let capped = grow(4, 40, 0.5, |size| Ok(size as f64 / 100.0)).unwrap();
        assert_eq!(capped, 40);
    }

    #[test]
    fn cpu_roofline_is_positive_and_finite() {
        let settings = RooflineSettings {
            target_seconds: 1e-4,
            iterations: IterationSettings {
                warmup: 0,
                iterations: 2,
            },
        };
        let roof = measure_cpu(&settings).unwrap();
        for value in [roof.bandwidth_gb_per_s, roof.compute_gflop_per_s] {
            assert!(value.is_finite() && value > 0.0, "{roof:?}");
        }
    }
}
