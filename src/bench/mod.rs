//! The benchmark harness: timing shared with the self-check, the benchmarks `kiln bench` runs
//! (`kernels`, `model`, `sparse`), their statistics, the device roofline measured in the same run,
//! versioned JSON and CSV reports, Markdown tables, comparisons across runs and charts.

pub mod chart;
pub mod compare;
pub mod format;
pub mod kernels;
pub mod measure;
pub mod model;
pub mod output;
pub mod provenance;
pub mod qdq;
pub mod report;
pub mod roofline;
pub mod sparse;
pub mod stats;
pub mod targets;
mod timing;

pub use timing::{time_iterations, time_per_run};
