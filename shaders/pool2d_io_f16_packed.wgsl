// f16 operands of the 2-D pool packed two per u32 word (joined after pool2d.wgsl; any device, no
// SHADER_F16): each thread computes the two outputs of one output word and writes the whole word,
// so neighbouring threads never share a word and no atomics are needed. With an odd output count
// the last word's high half is 0. Values are converted by hand for NaN and infinity, which
// pack2x16float leaves indeterminate; finite results of f16 inputs are in f16's range.

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

fn load_input(index: u32) -> f32 {
    let pair = unpack2x16float(input[index / 2u]);
    return select(pair.x, pair.y, (index & 1u) == 1u);
}

// The f16 bits of `value`: pack2x16float for finite values, the canonical NaN or a signed
// infinity otherwise.
fn f16_bits(value: f32) -> u32 {
    let bits = bitcast<u32>(value);
    let magnitude = bits & 0x7fffffffu;
    if magnitude > 0x7f800000u {
        return 0x7e00u;
    }
    if magnitude == 0x7f800000u {
        return ((bits >> 16u) & 0x8000u) | 0x7c00u;
    }
    return pack2x16float(vec2<f32>(value, 0.0)) & 0xffffu;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let word = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    let first = 2u * word;
    if first >= params.count {
        return;
    }
    var high = 0u;
    if first + 1u < params.count {
        high = f16_bits(pool_value(first + 1u)) << 16u;
    }
    output[word] = f16_bits(pool_value(first)) | high;
}
