// f32 operands of the 2-D pool (joined after pool2d.wgsl): one thread per output element, on the
// spilled 1-D grid of src/ops/grid.rs.

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;

fn load_input(index: u32) -> f32 {
    return input[index];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let index = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if index >= params.count {
        return;
    }
    output[index] = pool_value(index);
}
