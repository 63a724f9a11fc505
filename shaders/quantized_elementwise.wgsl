// QLinearAdd (OP 0), QLinearMul (OP 1) and requantization (OP 2, b unread) on int8/uint8 values
// packed four per u32 word (low byte first, as on the host). Each thread computes four consecutive
// outputs and writes them as one word, so no two threads write parts of the same word; the last
// word's unused bytes are 0. Broadcast offsets come from elementwise_index.wgsl (input 0 is a,
// input 1 is b), in elements.
//
// Bit-exact with src/ops/quantized_elementwise/reference.rs: the centred operands are exact i32,
// each product below is exact or the only rounding before round() (see the module doc there), and
// round() is round-half-even.

override OP: u32 = 0u;
override A_SIGNED: bool = true;
override B_SIGNED: bool = true;
override Y_SIGNED: bool = true;

struct Requantization {
    a_zero: i32,
    b_zero: i32,
    y_zero: i32,
    words: u32,
    a_multiplier: f32,
    b_multiplier: f32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;
@group(0) @binding(4) var<uniform> requant: Requantization;

// Byte `lane` of `word` as an int8 (signed) or uint8 value.
fn unpack_byte(word: u32, lane: u32, signed: bool) -> i32 {
    if signed {
        return bitcast<i32>(word << (24u - 8u * lane)) >> 24u;
    }
    return i32((word >> (8u * lane)) & 0xffu);
}

fn centred_a(offset: u32) -> i32 {
    return unpack_byte(a[offset / 4u], offset % 4u, A_SIGNED) - requant.a_zero;
}

fn centred_b(offset: u32) -> i32 {
    return unpack_byte(b[offset / 4u], offset % 4u, B_SIGNED) - requant.b_zero;
}

fn saturate_rounded(value: f32) -> i32 {
    let low = select(0.0, -128.0, Y_SIGNED);
    let high = select(255.0, 127.0, Y_SIGNED);
    return i32(clamp(round(value) + f32(requant.y_zero), low, high));
}

fn output_value(index: u32) -> i32 {
    let offsets = input_offsets(index);
    let a_value = centred_a(offsets.x);
    if OP == 2u {
        return saturate_rounded(f32(a_value) * requant.a_multiplier);
    }
    let b_value = centred_b(offsets.y);
    if OP == 1u {
        return saturate_rounded(f32(a_value * b_value) * requant.a_multiplier);
    }
    return saturate_rounded(
        f32(a_value) * requant.a_multiplier + f32(b_value) * requant.b_multiplier,
    );
}

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let word = flat_index(group, groups, local);
    if word >= requant.words {
        return;
    }
    var packed = 0u;
    for (var lane = 0u; lane < 4u; lane++) {
        let index = word * 4u + lane;
        if index < params.count {
            packed |= (bitcast<u32>(output_value(index)) & 0xffu) << (8u * lane);
        }
    }
    y[word] = packed;
}
