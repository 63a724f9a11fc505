// Cast between f32, f16, i32, i8, u8 and bool (u8 storage), and Not (a bool "cast" that negates),
// as the CPU reference (src/runtime/cpu/logic.rs, numpy's astype) defines them: floats to integers
// truncate toward zero and saturate to the target's range, NaN gives 0; integers to narrower
// integers wrap (keep the low bits); anything non-zero (NaN included, -0.0 not) is true; f32 to
// f16 rounds to nearest even, overflowing to ±inf. Conversions are written on bit patterns so they
// hold where a shader compiler assumes finite floats. Elements of 1, 2 or 4 bytes are packed
// little-endian in u32 words as on the host; each thread writes one whole output word, so
// sub-word outputs never race. Kinds: 0 f32, 1 f16, 2 i32, 3 i8, 4 u8/bool, 5 bool (output only:
// non-zero → 1), 6 Not (output only: zero → 1, else 0).

override INPUT_KIND: u32 = 0u;
override OUTPUT_KIND: u32 = 0u;

struct CastParams {
    count: u32,
    word_count: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> params: CastParams;
@group(0) @binding(1) var<storage, read> input: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;

const WORKGROUP_SIZE: u32 = 256u;

fn kind_bytes(kind: u32) -> u32 {
    switch kind {
        case 0u, 2u: {
            return 4u;
        }
        case 1u: {
            return 2u;
        }
        default: {
            return 1u;
        }
    }
}

fn is_float_kind(kind: u32) -> bool {
    return kind <= 1u;
}

// The raw bits of input element `index`, in the low bytes.
fn load_bits(index: u32) -> u32 {
    let size = kind_bytes(INPUT_KIND);
    if size == 4u {
        return input[index];
    }
    let byte = index * size;
    let mask = 0xffffffffu >> (32u - 8u * size);
    return (input[byte / 4u] >> (8u * (byte % 4u))) & mask;
}

// f16 bits widened exactly to f32 bits (subnormals, ±inf and NaN included).
fn f32_bits_from_f16(half: u32) -> u32 {
    let sign = (half & 0x8000u) << 16u;
    let exponent = (half >> 10u) & 0x1fu;
    let mantissa = half & 0x3ffu;
    if exponent == 0x1fu {
        return sign | 0x7f800000u | (mantissa << 13u);
    }
    if exponent != 0u {
        return sign | ((exponent + 112u) << 23u) | (mantissa << 13u);
    }
    // Subnormal or zero: mantissa · 2⁻²⁴, exact in f32 and never below f32's normal range.
    return sign | bitcast<u32>(f32(mantissa) * 5.9604644775390625e-8);
}

// f32 bits rounded to nearest even f16 bits; beyond f16's range ±inf; NaN stays NaN.
fn f16_bits_from_f32(bits: u32) -> u32 {
    let sign = (bits >> 16u) & 0x8000u;
    let magnitude = bits & 0x7fffffffu;
    if magnitude > 0x7f800000u {
        return sign | 0x7e00u | ((magnitude >> 13u) & 0x3ffu);
    }
    var half = 0u;
    var rest = 0u;
    var halfway = 0u;
    if magnitude >= 0x38800000u {
        // Normal in f16 (or overflow): rebias the exponent from 127 to 15, drop 13 bits.
        let rebased = magnitude - 0x38000000u;
        half = rebased >> 13u;
        rest = rebased & 0x1fffu;
        halfway = 0x1000u;
    } else if magnitude >= 0x33000000u {
        // Subnormal in f16: the significand shifted so one unit is 2⁻²⁴.
        let shift = 126u - (magnitude >> 23u);
        let significand = (magnitude & 0x7fffffu) | 0x800000u;
        half = significand >> shift;
        rest = significand & ((1u << shift) - 1u);
        halfway = 1u << (shift - 1u);
    }
    if rest > halfway || (rest == halfway && halfway != 0u && (half & 1u) == 1u) {
        half += 1u;
    }
    return sign | min(half, 0x7c00u);
}

// A float (as f32 bits) truncated toward zero and saturated to [low, high]; NaN gives 0.
fn saturate_to_int(bits: u32, low: i32, high: i32) -> i32 {
    if is_nan_bits(bitcast<f32>(bits)) {
        return 0;
    }
    let value = bitcast<f32>(bits);
    if value >= f32(high) {
        return high;
    }
    if value <= f32(low) {
        return low;
    }
    return i32(trunc(value));
}

// The output bits of one element from its input bits.
fn convert(raw: u32) -> u32 {
    if is_float_kind(INPUT_KIND) {
        var bits = raw;
        if INPUT_KIND == 1u {
            bits = f32_bits_from_f16(raw);
        }
        switch OUTPUT_KIND {
            case 0u: {
                return bits;
            }
            case 1u: {
                return f16_bits_from_f32(bits);
            }
            case 2u: {
                return bitcast<u32>(saturate_to_int(bits, -2147483647 - 1, 2147483647));
            }
            case 3u: {
                return bitcast<u32>(saturate_to_int(bits, -128, 127)) & 0xffu;
            }
            case 4u: {
                return u32(saturate_to_int(bits, 0, 255));
            }
            case 5u: {
                return select(0u, 1u, (bits & 0x7fffffffu) != 0u);
            }
            default: {
                return select(0u, 1u, (bits & 0x7fffffffu) == 0u);
            }
        }
    }
    var value = bitcast<i32>(raw);
    if INPUT_KIND == 3u {
        value = bitcast<i32>(raw << 24u) >> 24u;
    }
    switch OUTPUT_KIND {
        case 0u: {
            return bitcast<u32>(f32(value));
        }
        case 1u: {
            return f16_bits_from_f32(bitcast<u32>(f32(value)));
        }
        case 2u: {
            return bitcast<u32>(value);
        }
        case 3u, 4u: {
            return bitcast<u32>(value) & 0xffu;
        }
        case 5u: {
            return select(0u, 1u, value != 0);
        }
        default: {
            return select(0u, 1u, value == 0);
        }
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let word = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if word >= params.word_count {
        return;
    }
    let bits_per_element = 8u * kind_bytes(OUTPUT_KIND);
    let per_word = 32u / bits_per_element;
    var packed = 0u;
    for (var slot = 0u; slot < per_word; slot++) {
        let element = word * per_word + slot;
        if element >= params.count {
            break;
        }
        packed |= convert(load_bits(element)) << (slot * bits_per_element);
    }
    output[word] = packed;
}
