// The int8 convolutions' requantization epilogue (conv_q8.wgsl, conv_depthwise_q8.wgsl): an exact
// i32 sum of (x − x_zp)·w for one output, plus the i32 bias, to one output byte:
//   y = clamp(round_half_even(f32(total) · multiplier[channel]) + y_zp, −128, 127)
// then max(y, y_zp) with RELU, and the top bit flipped with OUTPUT_U8.
//
// f32(total) must equal the host's round-to-nearest-even conversion for every i32, but WGSL lets
// an i32 → f32 conversion round either way once |total| ≥ 2²⁴. So it is formed as
// f32(total >> 8) · 256 + f32(total & 255): both terms are exact and the one rounding is the
// addition's. This and the multiply by multiplier[channel] (computed in f32 on the host) assume
// WGSL's correctly rounded f32 add and multiply round to nearest even, as IEEE hardware does; with
// them the result is bit-exact with the reference (requantize in src/ops/conv/reference_q8.rs).
// `round` is half-to-even in WGSL. Bindings: 2 = bias (i32), 7 = multipliers (f32).

override HAS_BIAS: bool = false;
// uint8 output maps exactly onto int8 by flipping each byte's top bit (v − 128); the launcher
// passes the output zero point shifted the same way.
override OUTPUT_U8: bool = false;
// A fused Relu: the output is clamped below at the zero point (the real value 0).
override RELU: bool = false;

@group(0) @binding(2) var<storage, read> bias: array<i32>;
@group(0) @binding(7) var<storage, read> multipliers: array<f32>;

// The output byte (low 8 bits) of the exact sum `sum` (zero point already taken out, bias not yet
// added) for `channel`, with output zero point `y_zero_point`.
fn requantize_sum(sum: i32, channel: u32, y_zero_point: i32) -> u32 {
    var total = sum;
    if HAS_BIAS {
        total += bias[channel];
    }
    let value = f32(total >> 8u) * 256.0 + f32(total & 0xff);
    let scaled = round(value * multipliers[channel]);
    var q = clamp(scaled + f32(y_zero_point), -128.0, 127.0);
    if RELU {
        q = max(q, f32(y_zero_point));
    }
    let byte = bitcast<u32>(i32(q)) & 0xffu;
    return select(byte, byte ^ 0x80u, OUTPUT_U8);
}
