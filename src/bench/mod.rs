//! The benchmark harness: timing shared with the self-check, and the benchmarks `kiln bench` runs.
//! Every report compares against a baseline measured in the same run on the same device.

pub mod sparse;
mod timing;

pub use timing::{time_iterations, time_per_run};
