//! The benchmark report: a versioned JSON document (schema `kiln-bench`, [`SCHEMA_VERSION`]) with
//! what was run, where (machine, backend, adapter, driver, features), by which kiln (version and
//! git commit), the device's measured roofline and every result; plus the same results as CSV.

use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::bench::measure::{IterationSettings, Latency, TimingSource};
use crate::device::Gpu;
use crate::error::{Error, Result};

/// The `schema` field of every report.
pub const SCHEMA_NAME: &str = "kiln-bench";
/// The version of the report layout this kiln writes; it reads this version and older.
pub const SCHEMA_VERSION: u32 = 1;

/// A benchmark run: one or more backends, each with its results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// Always [`SCHEMA_NAME`].
    pub schema: String,
    /// The layout version, [`SCHEMA_VERSION`] when written by this kiln.
    pub schema_version: u32,
    /// The kiln crate version.
    pub kiln_version: String,
    /// `git rev-parse HEAD` of the source tree kiln was built from (`-dirty` when it had
    /// uncommitted changes), or `unknown`.
    pub git_commit: String,
    /// A label for the machine: `--machine`, else the host name.
    pub machine: String,
    /// Seconds since the Unix epoch when the run started.
    pub created_unix_seconds: u64,
    /// What was benchmarked: `kernels`, or `model <file>`.
    pub command: String,
    /// Warm-up and timed iteration counts.
    pub settings: IterationSettings,
    /// One entry per backend (adapter or the CPU reference), in the order they ran.
    pub runs: Vec<BackendRun>,
}

/// The results on one backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendRun {
    /// Where it ran.
    pub device: DeviceReport,
    /// The device's measured roof, when measured.
    pub roofline: Option<Roofline>,
    /// One entry per benchmarked problem.
    pub results: Vec<BenchResult>,
}

/// A backend's identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceReport {
    /// `vulkan`, `metal`, `dx12`, `gl`, or `cpu` for kiln's CPU references.
    pub backend: String,
    /// The adapter's name (for `cpu`, the host CPU's model name where known).
    pub adapter: String,
    /// The adapter type: `DiscreteGpu`, `IntegratedGpu`, `Cpu`, ... (`Host` for `cpu`).
    pub device_type: String,
    /// The driver's name.
    pub driver: String,
    /// The driver's version text.
    pub driver_info: String,
    /// The features kiln uses that the adapter has.
    pub features: Vec<String>,
}

impl DeviceReport {
    /// The report of an open GPU.
    pub fn of_gpu(gpu: &Gpu) -> Self {
        let info = gpu.info();
        let caps = gpu.capabilities();
        let features = [
            (caps.shader_f16, "SHADER_F16"),
            (caps.subgroups, "SUBGROUP"),
            (caps.timestamps, "TIMESTAMP_QUERY"),
            (caps.packed_dot4, "PACKED_4X8_DOT"),
            (caps.cooperative_matrix, "COOPERATIVE_MATRIX"),
        ];
        DeviceReport {
            backend: format!("{:?}", info.backend).to_ascii_lowercase(),
            adapter: info.name.clone(),
            device_type: format!("{:?}", info.device_type),
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
            features: features
                .iter()
                .filter(|(present, _)| *present)
                .map(|(_, name)| name.to_string())
                .collect(),
        }
    }

    /// The report of the host running kiln's CPU references (single-threaded).
    pub fn host_cpu() -> Self {
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, name)| name.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        DeviceReport {
            backend: "cpu".into(),
            adapter: model,
            device_type: "Host".into(),
            driver: "kiln CPU reference".into(),
            driver_info: "single thread".into(),
            features: Vec::new(),
        }
    }
}

/// The device's roof: streaming bandwidth and FMA throughput, measured in the same run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Roofline {
    /// Peak memory bandwidth, GB/s (a copy kernel: bytes read + bytes written).
    pub bandwidth_gb_per_s: f64,
    /// Peak f32 arithmetic, GFLOP/s (an FMA-chain kernel; one FMA = 2 FLOP).
    pub compute_gflop_per_s: f64,
    /// Which clock measured them.
    pub timing: TimingSource,
}

impl Roofline {
    /// The best GFLOP/s this device can reach at `intensity` FLOP per byte.
    pub fn attainable_gflop_per_s(&self, intensity: f64) -> f64 {
        self.compute_gflop_per_s
            .min(intensity * self.bandwidth_gb_per_s)
    }
}

/// A numeric precision of a benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit float.
    F32,
    /// 16-bit float operands, f32 accumulation.
    F16,
    /// int8 weights and activations, i32 accumulation (W8A8).
    Int8,
    /// int4 weights, f32 activations (weight-only).
    Int4,
}

impl Precision {
    /// Every precision, in table order.
    pub const ALL: [Precision; 4] = [
        Precision::F32,
        Precision::F16,
        Precision::Int8,
        Precision::Int4,
    ];
}

impl FromStr for Precision {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "f32" | "fp32" => Ok(Precision::F32),
            "f16" | "fp16" => Ok(Precision::F16),
            "int8" | "i8" | "q8" => Ok(Precision::Int8),
            "int4" | "i4" | "q4" => Ok(Precision::Int4),
            _ => Err(Error::InvalidArgument {
                op: "precision",
                detail: format!("'{text}' is not one of f32, f16, int8, int4"),
            }),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
            Precision::Int8 => "int8",
            Precision::Int4 => "int4",
        })
    }
}

/// One benchmarked problem on one backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// `matmul`, `conv2d` or `model`.
    pub kernel: String,
    /// The problem: `MxNxK` for matmul, `CxHxW:KHxKW:O` for conv, the file name for a model.
    pub shape: String,
    /// Numeric precision.
    pub precision: Precision,
    /// Batch size.
    pub batch: usize,
    /// The implementation path that ran (`f16 native`, `dot4 builtin`, `reference`, ...).
    pub variant: String,
    /// Arithmetic operations of one run (FLOP; int8 counts each multiply-add as 2), where known.
    pub operations: Option<f64>,
    /// Bytes one run must move at least (operands in, result out), where known.
    pub bytes: Option<f64>,
    /// The latency statistics.
    pub latency: Latency,
    /// Throughput at the primary p50 latency.
    pub throughput: Throughput,
    /// Achieved GFLOP/s as a percentage of what the roofline allows at this arithmetic intensity.
    pub roofline_percent: Option<f64>,
}

/// Throughput figures at the primary p50 latency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// GFLOP/s (GOP/s for int8).
    pub gflop_per_s: Option<f64>,
    /// GB/s of the minimal traffic.
    pub gb_per_s: Option<f64>,
    /// Batch items per second.
    pub inferences_per_s: f64,
}

impl BenchResult {
    /// Derives the throughput from the primary p50 and, given a roofline, the percentage of it.
    pub fn fill_throughput(&mut self, roofline: Option<&Roofline>) {
        let seconds = self.latency.primary_summary().p50.max(f64::MIN_POSITIVE);
        let gflop_per_s = self.operations.map(|ops| ops / seconds / 1e9);
        self.throughput = Throughput {
            gflop_per_s,
            gb_per_s: self.bytes.map(|bytes| bytes / seconds / 1e9),
            inferences_per_s: self.batch as f64 / seconds,
        };
        self.roofline_percent = match (roofline, gflop_per_s, self.intensity()) {
            (Some(roof), Some(achieved), Some(intensity)) => {
                Some(100.0 * achieved / roof.attainable_gflop_per_s(intensity))
            }
            _ => None,
        };
    }

    /// FLOP per byte of minimal traffic, where both are known.
    pub fn intensity(&self) -> Option<f64> {
        match (self.operations, self.bytes) {
            (Some(ops), Some(bytes)) if bytes > 0.0 => Some(ops / bytes),
            _ => None,
        }
    }
}

impl BenchReport {
    /// An empty report stamped with this kiln's version and commit, the machine and the time.
    pub fn new(command: &str, machine: Option<&str>, settings: IterationSettings) -> Self {
        BenchReport {
            schema: SCHEMA_NAME.into(),
            schema_version: SCHEMA_VERSION,
            kiln_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: crate::bench::provenance::git_commit(),
            machine: machine.map_or_else(crate::bench::provenance::host_name, String::from),
            created_unix_seconds: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs()),
            command: command.into(),
            settings,
            runs: Vec::new(),
        }
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// Reads a report from JSON text; `origin` names it in errors. Another schema, or a newer
    /// version than this kiln reads, is an error that says so.
    pub fn from_json(text: &str, origin: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|error| Error::Io {
            path: origin.into(),
            detail: format!("not JSON: {error}"),
        })?;
        let schema = value.get("schema").and_then(|s| s.as_str());
        if schema != Some(SCHEMA_NAME) {
            return Err(Error::Io {
                path: origin.into(),
                detail: format!("not a {SCHEMA_NAME} report (schema: {schema:?})"),
            });
        }
        let version = value.get("schema_version").and_then(|v| v.as_u64());
        if version.is_none_or(|v| v > u64::from(SCHEMA_VERSION)) {
            return Err(Error::Unsupported {
                location: origin.into(),
                detail: format!(
                    "report schema version {version:?}; this kiln reads versions up to \
                     {SCHEMA_VERSION}"
                ),
            });
        }
        serde_json::from_value(value).map_err(|error| Error::Io {
            path: origin.into(),
            detail: format!("malformed {SCHEMA_NAME} report: {error}"),
        })
    }

    /// Writes the JSON to `path`.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json()).map_err(|error| Error::io(path, error))
    }

    /// Reads a report from a JSON file.
    pub fn read_json(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::io(path, error))?;
        Self::from_json(&text, &path.display().to_string())
    }
}
