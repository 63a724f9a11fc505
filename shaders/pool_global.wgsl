// GlobalAveragePool / GlobalMaxPool over f32: one workgroup per (n, c) plane. Each thread strides
// over the plane, then the workgroup halves its partial results in shared memory until one is
// left. Max propagates NaN through the bit test is_nan (WGSL's max() with NaN is
// implementation-defined). Planes are numbered on the spilled grid of src/ops/grid.rs with one
// "element" per workgroup.

override IS_MAX: bool = true;

struct GlobalPoolParams {
    planes: u32,
    plane_len: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: GlobalPoolParams;

const WORKGROUP_SIZE: u32 = 256u;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

fn f32_from_bits(bits: u32) -> f32 {
    return bitcast<f32>(bits);
}

fn is_nan(value: f32) -> bool {
    return (bitcast<u32>(value) & 0x7fffffffu) > 0x7f800000u;
}

// max or sum of two partial results; a NaN operand wins the max.
fn combine(a: f32, b: f32) -> f32 {
    if !IS_MAX {
        return a + b;
    }
    if is_nan(a) {
        return a;
    }
    return select(a, b, is_nan(b) || b > a);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let plane = group.y * groups.x + group.x;
    // Whole workgroups leave together, so the barriers below stay uniform.
    if plane >= params.planes {
        return;
    }
    let base = plane * params.plane_len;
    var acc = select(0.0, f32_from_bits(0xff800000u), IS_MAX);
    for (var i = local.x; i < params.plane_len; i += WORKGROUP_SIZE) {
        acc = combine(acc, input[base + i]);
    }
    partial[local.x] = acc;
    workgroupBarrier();
    for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
        if local.x < half {
            partial[local.x] = combine(partial[local.x], partial[local.x + half]);
        }
        workgroupBarrier();
    }
    if local.x == 0u {
        let total = partial[0];
        output[plane] = select(total / f32(params.plane_len), total, IS_MAX);
    }
}
