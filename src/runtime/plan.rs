//! The execution plan: shapes bound, passes run, buffers planned by liveness, then run.

/// Placeholder until the plan lands.
pub struct Plan;
