// Correctly rounded f32 division (round to nearest, ties to even), from the operands' bits with
// integer long division. WGSL lets `a / b` be off by 2.5 ULP, which could move a quantization
// quotient across a .5 boundary; this gives the IEEE quotient the CPU reference computes, bit for
// bit, for finite `a` and finite nonzero `b` (subnormal operands included). A subnormal quotient is
// returned as its bit pattern; a device that flushes subnormals may read it as 0, which rounds to
// the same integer. Overflow gives ±infinity.

// The significand of a finite nonzero f32 as an integer in [2²³, 2²⁴), with its unbiased
// exponent e such that |x| = significand · 2^(e − 23).
fn div_rn_unpack(bits: u32) -> vec2<i32> {
    let exponent = i32((bits >> 23u) & 0xffu);
    let fraction = bits & 0x7fffffu;
    if exponent == 0 {
        let shift = countLeadingZeros(fraction) - 8u;
        return vec2<i32>(i32(fraction << shift), -126 - i32(shift));
    }
    return vec2<i32>(i32(fraction | 0x800000u), exponent - 127);
}

fn div_rn(a: f32, b: f32) -> f32 {
    let a_bits = bitcast<u32>(a);
    let b_bits = bitcast<u32>(b);
    let sign = (a_bits ^ b_bits) & 0x80000000u;
    if (a_bits & 0x7fffffffu) == 0u {
        return bitcast<f32>(sign);
    }
    let a_parts = div_rn_unpack(a_bits);
    let b_parts = div_rn_unpack(b_bits);
    var remainder = u32(a_parts.x);
    let divisor = u32(b_parts.x);
    // Biased exponent of the quotient, whose significand lies in [1, 2) after this adjustment.
    var biased = a_parts.y - b_parts.y + 127;
    if remainder < divisor {
        remainder <<= 1u;
        biased -= 1;
    }
    // 24 significand bits and one rounding bit; `remainder` stays below 2²⁵.
    var quotient = 0u;
    for (var bit = 0u; bit < 25u; bit++) {
        quotient <<= 1u;
        if remainder >= divisor {
            remainder -= divisor;
            quotient |= 1u;
        }
        remainder <<= 1u;
    }
    var sticky = remainder != 0u;
    if biased >= 255 {
        return bitcast<f32>(sign | 0x7f800000u);
    }
    if biased < 1 {
        // Subnormal: shift to the scale of exponent field 1, folding the lost bits into sticky.
        let shift = u32(min(1 - biased, 31));
        sticky = sticky || (quotient & ((1u << shift) - 1u)) != 0u;
        quotient >>= shift;
    }
    var significand = quotient >> 1u;
    if (quotient & 1u) != 0u && (sticky || (significand & 1u) != 0u) {
        significand += 1u;
    }
    // A carry out of the significand moves into the exponent field, as IEEE rounding does.
    let field = select(0u, u32(biased - 1) << 23u, biased >= 1);
    return bitcast<f32>(sign | (field + significand));
}
