// One-input element-wise ops: y = f(x), one thread per element, x and y contiguous (the unary
// ops never broadcast, so only `params.count` is read). UNARY_OP selects the function (codes of
// `UnaryOp::code` in src/ops/elementwise/unary.rs); code 0 is an activation from activation.wgsl,
// chosen by its own override constants. NaN propagates through every op by a bit test before the
// switch, and the ±inf, zero and negative-domain cases of sqrt, exp and log are decided from bits.

override UNARY_OP: u32 = 0u;

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

fn unary_sqrt(x: f32) -> f32 {
    if is_zero_bits(x) || (is_inf_bits(x) && !sign_bit_set(x)) {
        return x;
    }
    if sign_bit_set(x) {
        return nan_from(x);
    }
    return sqrt(x);
}

// exp overflows f32 above ln(f32::MAX) ≈ 88.72 and underflows to 0 below ln(2⁻¹⁴⁹) ≈ -103.3.
fn unary_exp(x: f32) -> f32 {
    if is_inf_bits(x) || abs(x) > 104.0 {
        return select(inf_with_sign(false), 0.0, sign_bit_set(x));
    }
    if x > 88.72284 {
        return inf_with_sign(false);
    }
    return exp(x);
}

fn unary_log(x: f32) -> f32 {
    if is_zero_bits(x) {
        return inf_with_sign(true);
    }
    if sign_bit_set(x) {
        return nan_from(x);
    }
    if is_inf_bits(x) {
        return x;
    }
    return log(x);
}

fn apply_unary(x: f32) -> f32 {
    if is_nan_bits(x) {
        return x;
    }
    switch UNARY_OP {
        case 1u: { return unary_sqrt(x); }
        case 2u: { return unary_exp(x); }
        case 3u: { return unary_log(x); }
        case 4u: { return negate_bits(x); }
        case 5u: { return bitcast<f32>(bitcast<u32>(x) & MAGNITUDE_MASK); }
        default: { return apply_activation(x); }
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
    output[index] = apply_unary(input[index]);
}
