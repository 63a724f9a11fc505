//! The peers kiln is timed against: burn's wgpu backend in this process, and torch (cuBLAS, TF32
//! off) through `torch_matmul.py`. Each times one matmul per iteration and waits for it, by the
//! wall clock, as `main` times kiln.

use std::process::Command;
use std::str::FromStr;
use std::time::Instant;

use burn::tensor::wgpu::{wgpu, WgpuBackend};
use burn::tensor::{DType, Device, DeviceKind, Distribution, FloatDType, Tensor};
use kiln::bench::kernels::MatmulSize;
use kiln::bench::measure::IterationSettings;
use kiln::bench::stats::LatencySummary;

/// The precisions every peer offers for a plain matmul.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// f32 operands and result.
    F32,
    /// f16 operands and result.
    F16,
}

impl FromStr for Precision {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "f32" => Ok(Precision::F32),
            "f16" => Ok(Precision::F16),
            other => Err(format!(
                "precision '{other}': the peers compare f32 and f16"
            )),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        })
    }
}

/// The median of samples taken by `run` (one timed iteration each) after `warmup` untimed ones.
fn median_of(
    iterations: &IterationSettings,
    mut run: impl FnMut() -> Result<(), String>,
) -> Result<f64, String> {
    for _ in 0..iterations.warmup {
        run()?;
    }
    let mut samples = Vec::with_capacity(iterations.iterations);
    for _ in 0..iterations.iterations {
        let start = Instant::now();
        run()?;
        samples.push(start.elapsed().as_secs_f64());
    }
    LatencySummary::of(&samples)
        .map(|summary| summary.p50)
        .ok_or_else(|| "no timed iterations".to_string())
}

/// burn on the adapter kiln uses.
pub struct BurnPeer {
    device: Device,
    description: String,
}

impl BurnPeer {
    /// burn's device for the adapter kiln reports as `info`: the first adapter of the same type on
    /// the same graphics API.
    pub fn open(info: &wgpu::AdapterInfo) -> Result<Self, String> {
        let kind = match info.device_type {
            wgpu::DeviceType::DiscreteGpu => DeviceKind::DiscreteGpu(0),
            wgpu::DeviceType::IntegratedGpu => DeviceKind::IntegratedGpu(0),
            wgpu::DeviceType::VirtualGpu => DeviceKind::VirtualGpu(0),
            wgpu::DeviceType::Cpu => DeviceKind::Cpu,
            wgpu::DeviceType::Other => DeviceKind::DefaultDevice,
        };
        let api = match info.backend {
            wgpu::Backend::Vulkan => WgpuBackend::Vulkan,
            wgpu::Backend::Metal => WgpuBackend::Metal,
            wgpu::Backend::Dx12 => WgpuBackend::Dx12,
            wgpu::Backend::Gl => WgpuBackend::Gl,
            _ => WgpuBackend::Auto,
        };
        let device = Device::wgpu_options()
            .device_kind(kind.clone())
            .graphics_api(api)
            .init()
            .map_err(|error| format!("burn could not open {kind:?} on {api:?}: {error}"))?;
        let name = device
            .identity()
            .map_or_else(|| "unnamed adapter".to_string(), |identity| identity.name);
        Ok(BurnPeer {
            device,
            description: format!("{name} ({kind:?} on {api:?}, burn 0.22 wgpu backend)"),
        })
    }

    /// The adapter burn opened.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// burn's p50 seconds for `A[M, K] · B[K, N]`, or `None` where the device lacks the dtype.
    pub fn time_matmul(
        &self,
        size: MatmulSize,
        precision: Precision,
        iterations: &IterationSettings,
    ) -> Result<Option<f64>, String> {
        let device = &self.device;
        if precision == Precision::F16 && !device.supports_dtype(DType::F16) {
            return Ok(None);
        }
        let uniform = Distribution::Uniform(-1.0, 1.0);
        let mut a = Tensor::<2>::random([size.m, size.k], uniform, device);
        let mut b = Tensor::<2>::random([size.k, size.n], uniform, device);
        if precision == Precision::F16 {
            a = a.cast(FloatDType::F16);
            b = b.cast(FloatDType::F16);
        }
        let sync = || device.sync().map_err(|error| format!("burn: {error:?}"));
        sync()?;
        median_of(iterations, || {
            // The product is held until the device is idle, so fusion cannot drop it unread.
            let product = a.clone().matmul(b.clone());
            sync()?;
            drop(product);
            Ok(())
        })
        .map(Some)
    }
}

/// torch's medians, read from `torch_matmul.py`.
pub struct TorchResults {
    /// The device torch ran on, as the script names it.
    pub device: String,
    rows: Vec<(String, String, f64)>,
}

impl TorchResults {
    /// torch's p50 seconds for `size` at `precision`, where it ran.
    pub fn p50(&self, size: MatmulSize, precision: Precision) -> Option<f64> {
        let (size, precision) = (size.to_string(), precision.to_string());
        self.rows
            .iter()
            .find(|(s, p, _)| *s == size && *p == precision)
            .map(|row| row.2)
    }
}

/// Runs `torch_matmul.py` (with `$PYTHON`, else `python3`) on the same problems.
pub fn run_torch(
    sizes: &[MatmulSize],
    precisions: &[Precision],
    iterations: &IterationSettings,
) -> Result<TorchResults, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/torch_matmul.py");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let join = |items: Vec<String>| items.join(",");
    let output = Command::new(&python)
        .arg(script)
        .args([
            "--sizes",
            &join(sizes.iter().map(ToString::to_string).collect()),
        ])
        .args([
            "--precisions",
            &join(precisions.iter().map(ToString::to_string).collect()),
        ])
        .args(["--warmup", &iterations.warmup.to_string()])
        .args(["--iters", &iterations.iterations.to_string()])
        .output()
        .map_err(|error| format!("running {python} {script}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{script} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let device = lines
        .next()
        .and_then(|line| line.strip_prefix("device "))
        .ok_or("torch_matmul.py printed no device line")?
        .to_string();
    let rows = lines
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields[..] {
                [size, precision, seconds] => seconds
                    .parse()
                    .map(|s| (size.to_string(), precision.to_string(), s))
                    .map_err(|_| format!("torch_matmul.py: cannot read '{line}'")),
                _ => Err(format!("torch_matmul.py: cannot read '{line}'")),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(TorchResults { device, rows })
}
