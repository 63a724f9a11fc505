// DynamicQuantizeLinear, step 2 of 2: y = clamp(round_half_even(x / y_scale) + y_zero_point, 0,
// 255) with the scale and zero point step 1 (quantize_dynamic_range.wgsl) wrote, read here from
// the device, and div_rn (div_rn.wgsl, joined before this file) for the exact quotient. NaN gives
// the zero point, as in QuantizeLinear. Four outputs (one u32 word) per thread, so no two threads
// write the same word; the unused bytes of a partial last word are 0.

const WORKGROUP_SIZE: u32 = 256u;

struct ApplyParams {
    count: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y_scale: array<f32>;
@group(0) @binding(2) var<storage, read> y_zero_point: array<u32>;
@group(0) @binding(3) var<uniform> params: ApplyParams;
@group(0) @binding(4) var<storage, read_write> y: array<u32>;

fn quantize_one(value: f32, scale: f32, zero_point: f32) -> u32 {
    if (bitcast<u32>(value) & 0x7fffffffu) > 0x7f800000u {
        return u32(zero_point);
    }
    return u32(clamp(round(div_rn(value, scale)) + zero_point, 0.0, 255.0));
}

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let word = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if word * 4u >= params.count {
        return;
    }
    let scale = y_scale[0];
    let zero_point = f32(y_zero_point[0] & 0xffu);
    var packed = 0u;
    for (var lane = 0u; lane < 4u; lane++) {
        let index = word * 4u + lane;
        if index < params.count {
            packed |= quantize_one(x[index], scale, zero_point) << (8u * lane);
        }
    }
    y[word] = packed;
}
