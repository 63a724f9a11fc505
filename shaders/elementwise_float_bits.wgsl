// Special IEEE values, tested and built from their bits. WGSL lets an implementation assume that
// floats are finite, and some do (llvmpipe through GL folds `relu(NaN)` to 0), so kernels that
// must propagate NaN or produce ±inf (ONNX and numpy define them) decide with integer tests on
// `bitcast<u32>` and build the special results from bit patterns, never from float arithmetic.

const NAN_BITS: u32 = 0x7fc00000u;
const POS_INF_BITS: u32 = 0x7f800000u;
const NEG_INF_BITS: u32 = 0xff800000u;
const SIGN_BIT: u32 = 0x80000000u;
const MAGNITUDE_MASK: u32 = 0x7fffffffu;

fn is_nan_bits(x: f32) -> bool {
    return (bitcast<u32>(x) & MAGNITUDE_MASK) > POS_INF_BITS;
}

fn is_inf_bits(x: f32) -> bool {
    return (bitcast<u32>(x) & MAGNITUDE_MASK) == POS_INF_BITS;
}

fn is_zero_bits(x: f32) -> bool {
    return (bitcast<u32>(x) & MAGNITUDE_MASK) == 0u;
}

fn sign_bit_set(x: f32) -> bool {
    return (bitcast<u32>(x) & SIGN_BIT) != 0u;
}

// A quiet NaN. Built from a runtime value so that no NaN literal reaches the shader compiler.
fn nan_from(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) | NAN_BITS);
}

fn inf_with_sign(negative: bool) -> f32 {
    return bitcast<f32>(select(POS_INF_BITS, NEG_INF_BITS, negative));
}

fn zero_with_sign(negative: bool) -> f32 {
    return bitcast<f32>(select(0u, SIGN_BIT, negative));
}

fn negate_bits(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ SIGN_BIT);
}

// An unsigned key whose order is the order of the floats: -inf < ... < -0 = +0 < ... < +inf < NaN.
// Every NaN maps to the largest key, so max-reductions propagate NaN by integer comparison alone.
fn order_key(x: f32) -> u32 {
    let bits = bitcast<u32>(x);
    if is_nan_bits(x) {
        return 0xffffffffu;
    }
    if (bits & MAGNITUDE_MASK) == 0u {
        return SIGN_BIT;
    }
    return select(bits | SIGN_BIT, ~bits, (bits & SIGN_BIT) != 0u);
}

// The float whose `order_key` is `key` (NaN for the NaN key).
fn from_order_key(key: u32) -> f32 {
    if key == 0xffffffffu {
        return bitcast<f32>(NAN_BITS | (key & 0u));
    }
    return bitcast<f32>(select(~key, key & MAGNITUDE_MASK, (key & SIGN_BIT) != 0u));
}
