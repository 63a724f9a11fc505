// Decoding kiln's int4 weights (layout contract in src/tensor/q4.rs): the f16 scale and the zero
// point of a group. The arrays q4_nibbles, q4_scales and q4_zero_points are declared by the
// bindings file joined before this one: q4_weights.wgsl for the matmul's B and GEMV (bindings 1,
// 5, 6), conv_a_q4_bindings.wgsl for the convolution's A (bindings 0, 6, 7). Nibbles: eight per
// u32, low first; scales: two f16 per u32, low half first; zero points: four per u32, byte j of
// word i is group 4i + j.

// The f16 scale of `group`, decoded from its bits so that subnormal scales (which
// Q4Weights::from_parts accepts) stay exact instead of being flushed to zero by unpack2x16float on
// some devices. Scales are finite and positive: no sign, infinity or NaN to handle.
fn q4_scale(group: u32) -> f32 {
    let bits = (q4_scales[group / 2u] >> (16u * (group % 2u))) & 0xFFFFu;
    let exponent = bits >> 10u;
    let mantissa = bits & 0x3FFu;
    if exponent == 0u {
        return f32(mantissa) * 5.9604644775390625e-8; // mantissa · 2⁻²⁴, exact
    }
    return bitcast<f32>(((exponent + 112u) << 23u) | (mantissa << 13u));
}

fn q4_zero_point(group: u32) -> f32 {
    return f32((q4_zero_points[group / 4u] >> (8u * (group % 4u))) & 0xFu);
}
