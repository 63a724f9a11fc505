// QLinearGlobalAveragePool over int8 or uint8 (SIGNED) packed four per u32 word, low byte first,
// as src/ops/pooling/qlinear.rs specifies: per (n, c) plane the exact i32 sum of (q − x_zp), then
// y = clamp(round_half_even(f32(sum) · multiplier) + y_zp) in f32, multiplier = x_scale / (y_scale
// · plane_len) computed on the host. One workgroup per four consecutive planes (one output word,
// so no two workgroups write one word): for each plane the threads stride over it, then halve their
// partial sums in shared memory (integer addition: any order gives the same sum). f32(sum) is
// exact: the launcher caps planes at 65 793 elements. Words are numbered on the spilled grid of
// src/ops/grid.rs with one "element" per workgroup.

override SIGNED: bool = true;

struct QGlobalPoolParams {
    planes: u32,
    plane_len: u32,
    input_zero_point: i32,
    output_zero_point: i32,
    multiplier: f32,
}

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@group(0) @binding(2) var<uniform> params: QGlobalPoolParams;

const WORKGROUP_SIZE: u32 = 256u;

var<workgroup> partial: array<i32, WORKGROUP_SIZE>;

fn load_input(index: u32) -> i32 {
    let byte = (input[index / 4u] >> (8u * (index % 4u))) & 0xffu;
    if SIGNED {
        return (i32(byte) << 24u) >> 24u;
    }
    return i32(byte);
}

fn requantize(sum: i32) -> u32 {
    let scaled = round(f32(sum) * params.multiplier) + f32(params.output_zero_point);
    if SIGNED {
        return bitcast<u32>(i32(clamp(scaled, -128.0, 127.0))) & 0xffu;
    }
    return u32(clamp(scaled, 0.0, 255.0));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let word = group.y * groups.x + group.x;
    // Whole workgroups leave together, so the barriers below stay uniform.
    if 4u * word >= params.planes {
        return;
    }
    var packed = 0u;
    for (var byte = 0u; byte < 4u; byte++) {
        let plane = 4u * word + byte;
        // Uniform across the workgroup: every thread sees the same plane index.
        if plane >= params.planes {
            break;
        }
        let base = plane * params.plane_len;
        var acc = 0;
        for (var i = local.x; i < params.plane_len; i += WORKGROUP_SIZE) {
            acc += load_input(base + i) - params.input_zero_point;
        }
        partial[local.x] = acc;
        workgroupBarrier();
        for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
            if local.x < half {
                partial[local.x] += partial[local.x + half];
            }
            workgroupBarrier();
        }
        packed |= requantize(partial[0]) << (8u * byte);
        workgroupBarrier();
    }
    if local.x == 0u {
        output[word] = packed;
    }
}
