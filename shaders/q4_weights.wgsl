// kiln's int4 weights as the kernels read them (layout contract in src/tensor/q4.rs), shared by the
// tiled B loader (matmul_b_q4.wgsl) and the GEMV (gemv_q4.wgsl).
// Bindings: 1 = nibbles, eight per u32, low first; 5 = f16 scales, two per u32, low half first;
// 6 = zero points, four per u32, byte j of word i is group 4i + j.

@group(0) @binding(1) var<storage, read> q4_nibbles: array<u32>;
@group(0) @binding(5) var<storage, read> q4_scales: array<u32>;
@group(0) @binding(6) var<storage, read> q4_zero_points: array<u32>;

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
