// QuantizeLinear: q = saturate(round_half_even(x / scale) + zero_point), int8 or uint8.
//
// Each thread computes four consecutive outputs and writes them as one u32 word, so no two threads
// ever write parts of the same word (WGSL has no byte stores). The last word may be partial: its
// unused bytes are written as 0. The quotient is x / scale as ONNX specifies; WGSL allows it 2.5 ULP
// of error, so a quotient within that of a .5 boundary may round to the other neighbour (the tests
// allow ±1 exactly there, see src/ops/quantize/layout.rs). NaN and infinities are detected from the
// bit pattern, since WGSL lets an implementation assume they never occur: NaN gives the zero point,
// ±infinity saturates.

const WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> q: array<u32>;

fn quantize_one(value: f32, step: f32, zero: i32) -> i32 {
    let qmin = select(-128, 0, QUANT_KIND == 1u);
    let qmax = select(127, 255, QUANT_KIND == 1u);
    let magnitude_bits = bitcast<u32>(value) & 0x7fffffffu;
    if magnitude_bits > 0x7f800000u {
        return clamp(zero, qmin, qmax);
    }
    if magnitude_bits == 0x7f800000u {
        return select(qmax, qmin, value < 0.0);
    }
    let shifted = round(value / step) + f32(zero);
    return i32(clamp(shifted, f32(qmin), f32(qmax)));
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
    var packed = 0u;
    for (var lane = 0u; lane < 4u; lane++) {
        let index = word * 4u + lane;
        if index < params.count {
            let p = param_index(index);
            let value = quantize_one(x[index], scale[p], zero_point_at(p));
            packed |= (bitcast<u32>(value) & 0xffu) << (8u * lane);
        }
    }
    q[word] = packed;
}
