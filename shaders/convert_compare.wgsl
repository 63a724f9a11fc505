// Equal, Less, LessOrEqual, Greater, GreaterOrEqual on f32 or i32 with numpy broadcasting
// (elementwise_index.wgsl supplies `params` and `input_offsets`), as the CPU reference
// (src/runtime/cpu/logic.rs) defines them: NaN compares false, so Equal(NaN, NaN) is false and
// -0.0 equals 0.0. NaN is found from bit patterns, so this holds where a shader compiler assumes
// finite floats. The output is bool stored as u8 (0 or 1), four per u32 word, low byte first;
// each thread writes one whole word (four output elements), so neighbouring bytes never race.
// OP: 0 Equal, 1 Less, 2 LessOrEqual, 3 Greater, 4 GreaterOrEqual. FLOAT_INPUTS: f32, else i32.

override OP: u32 = 0u;
override FLOAT_INPUTS: bool = true;

@group(0) @binding(1) var<storage, read> input_a: array<u32>;
@group(0) @binding(2) var<storage, read> input_b: array<u32>;
@group(0) @binding(3) var<storage, read_write> output: array<u32>;

// The comparison given which orderings hold (only one of the three is true for ordered values).
fn holds(less: bool, equal: bool, greater: bool) -> bool {
    switch OP {
        case 0u: {
            return equal;
        }
        case 1u: {
            return less;
        }
        case 2u: {
            return less || equal;
        }
        case 3u: {
            return greater;
        }
        default: {
            return greater || equal;
        }
    }
}

fn compare(a_bits: u32, b_bits: u32) -> bool {
    if FLOAT_INPUTS {
        let a = bitcast<f32>(a_bits);
        let b = bitcast<f32>(b_bits);
        if is_nan_bits(a) || is_nan_bits(b) {
            return false;
        }
        return holds((a < b), (a == b), (a > b));
    }
    let a = bitcast<i32>(a_bits);
    let b = bitcast<i32>(b_bits);
    return holds((a < b), (a == b), (a > b));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let word = flat_index(group, groups, local);
    if word * 4u >= params.count {
        return;
    }
    var packed = 0u;
    for (var slot = 0u; slot < 4u; slot++) {
        let index = word * 4u + slot;
        if index >= params.count {
            break;
        }
        let offsets = input_offsets(index);
        if compare(input_a[offsets.x], input_b[offsets.y]) {
            packed |= 1u << (8u * slot);
        }
    }
    output[word] = packed;
}
