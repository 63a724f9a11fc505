//! Dispatch grids for kernels that give each thread one output element (element-wise, pooling,
//! data movement). A 1-D count larger than the device's workgroups-per-dimension limit spills into
//! the y dimension; the WGSL side recovers the flat index with
//! `let index = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;`
//! (`group` = `@builtin(workgroup_id)`, `groups` = `@builtin(num_workgroups)`) and skips
//! `index >= count`.

use crate::device::Gpu;
use crate::error::{Error, Result};

/// Threads per workgroup of the one-thread-per-element kernels (`WORKGROUP_SIZE` in their WGSL).
pub const ELEMENTWISE_WORKGROUP: usize = 256;

/// The grid that covers `count` elements with `workgroup_size` threads per workgroup.
pub fn grid_for(gpu: &Gpu, count: usize, workgroup_size: usize) -> Result<[u32; 3]> {
    let limit = gpu.limits().max_compute_workgroups_per_dimension as usize;
    let groups = count.div_ceil(workgroup_size);
    let rows = groups.div_ceil(limit).max(1);
    if rows > limit {
        return Err(Error::LimitExceeded {
            what: "workgroups for one element-wise dispatch",
            requested: groups as u64,
            limit: (limit * limit) as u64,
        });
    }
    let columns = groups.min(limit);
    Ok([columns as u32, if groups == 0 { 0 } else { rows as u32 }, 1])
}
