// Two-input element-wise ops with numpy broadcasting: out = a ∘ b, one thread per output element.
// BINARY_OP selects the op (codes of `BinaryOp::code` in src/ops/elementwise/binary.rs). The
// special values ONNX and numpy define are decided from bits (elementwise_float_bits.wgsl): NaN
// propagates (Min and Max included), x/0 is ±inf and 0/0 NaN, and Pow follows C's `pow`.

override BINARY_OP: u32 = 0u;

@group(0) @binding(1) var<storage, read> input_a: array<f32>;
@group(0) @binding(2) var<storage, read> input_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

fn divide(a: f32, b: f32) -> f32 {
    let negative = sign_bit_set(a) != sign_bit_set(b);
    if is_zero_bits(b) {
        return select(inf_with_sign(negative), nan_from(a), is_zero_bits(a));
    }
    if is_inf_bits(a) {
        return select(inf_with_sign(negative), nan_from(a), is_inf_bits(b));
    }
    if is_inf_bits(b) {
        return zero_with_sign(negative);
    }
    return a / b;
}

// |x|^y for finite, non-zero x and finite, non-zero y, as WGSL defines pow: exp2(y·log2|x|).
// y = 2 (squares, common in decomposed norms) is one correctly rounded multiply.
fn magnitude_power(magnitude: f32, y: f32) -> f32 {
    if y == 2.0 {
        return magnitude * magnitude;
    }
    let exponent = y * log2(magnitude);
    if exponent >= 128.0 {
        return inf_with_sign(false);
    }
    if exponent < -150.0 {
        return 0.0;
    }
    return exp2(exponent);
}

// C's pow (which numpy and ONNX follow): x^0 = 1 and 1^y = 1 even for NaN; a negative finite x
// with a non-integer y is NaN; ±0 and ±inf bases and ±inf exponents take their limits; an odd
// integer exponent keeps the base's sign.
fn power(x: f32, y: f32) -> f32 {
    if is_zero_bits(y) || bitcast<u32>(x) == 0x3f800000u {
        return 1.0;
    }
    if is_nan_bits(x) || is_nan_bits(y) {
        return nan_from(x);
    }
    let y_infinite = is_inf_bits(y);
    let y_integer = y_infinite || trunc(y) == y;
    let y_odd = y_integer && !y_infinite && abs(y) < 16777216.0 && (i32(y) & 1) != 0;
    let x_negative = sign_bit_set(x);
    let y_positive = !sign_bit_set(y);
    if x_negative && !is_zero_bits(x) && !is_inf_bits(x) && !y_integer {
        return nan_from(x);
    }
    let magnitude = bitcast<f32>(bitcast<u32>(x) & MAGNITUDE_MASK);
    var result: f32;
    if y_infinite {
        if magnitude == 1.0 {
            return 1.0;
        }
        result = select(0.0, inf_with_sign(false), (magnitude > 1.0) == y_positive);
    } else if is_zero_bits(x) {
        result = select(inf_with_sign(false), 0.0, y_positive);
    } else if is_inf_bits(x) {
        result = select(0.0, inf_with_sign(false), y_positive);
    } else {
        result = magnitude_power(magnitude, y);
    }
    return select(result, negate_bits(result), x_negative && y_odd);
}

fn apply_binary(a: f32, b: f32) -> f32 {
    if BINARY_OP == 4u {
        return power(a, b);
    }
    if is_nan_bits(a) {
        return a;
    }
    if is_nan_bits(b) {
        return b;
    }
    switch BINARY_OP {
        case 0u: { return a + b; }
        case 1u: { return a - b; }
        case 2u: { return a * b; }
        case 3u: { return divide(a, b); }
        case 5u: { return min(a, b); }
        default: { return max(a, b); }
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let index = flat_index(group, groups, local);
    if index >= params.count {
        return;
    }
    let offsets = input_offsets(index);
    output[index] = apply_binary(input_a[offsets.x], input_b[offsets.y]);
}
