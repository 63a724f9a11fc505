//! `kiln info`: every adapter with the features and limits kiln uses.

use kiln::device::{list_adapters, BackendChoice};

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// Prints every adapter on `backend`.
pub fn print_info(backend: BackendChoice) {
    let adapters = list_adapters(backend);
    if adapters.is_empty() {
        println!(
            "no adapters found on backend '{backend}'. Install a GPU driver, or lavapipe \
             (Debian/Ubuntu: apt-get install mesa-vulkan-drivers)."
        );
    }
    for report in adapters {
        let info = &report.info;
        let caps = report.capabilities;
        let limits = &report.limits;
        println!("[{}] {}", report.index, info.name);
        println!(
            "    backend: {:?}   type: {:?}",
            info.backend, info.device_type
        );
        println!("    driver: {} ({})", info.driver, info.driver_info);
        println!(
            "    SHADER_F16: {}   SUBGROUP: {} (size {}..{})   TIMESTAMP_QUERY: {}",
            yes_no(caps.shader_f16),
            yes_no(caps.subgroups),
            info.subgroup_min_size,
            info.subgroup_max_size,
            yes_no(caps.timestamps)
        );
        println!(
            "    WGSL packed 4x8 integer dot product: {}   cooperative matrix: {}",
            yes_no(caps.packed_dot4),
            yes_no(caps.cooperative_matrix)
        );
        println!(
            "    limits: storage binding {} MiB, buffer {} MiB, workgroup memory {} KiB, \
             {} invocations per workgroup, {} workgroups per dimension",
            limits.max_storage_buffer_binding_size >> 20,
            limits.max_buffer_size >> 20,
            limits.max_compute_workgroup_storage_size >> 10,
            limits.max_compute_invocations_per_workgroup,
            limits.max_compute_workgroups_per_dimension
        );
    }
}
