// C requantized to int8 or uint8 (ONNX QLinearMatMul, and the Gemm the QDQ lowering turns into
// it), row-major [batch · M, N], four values per u32 word:
//   y = clamp(round_half_even(f32(acc + bias[col]) · multiplier[col]) + y_zp, low, high)
// with multiplier[col] = a_scale · b_scale[col] / y_scale computed in f32 on the host, [low, high]
// the output type's range, raised to [y_zp, high] by a fused Relu. The same f32 operations as the
// reference (`requantize` in src/ops/matmul/int8/qlinear.rs), so bit-exact: f32(acc) is formed as
// f32(acc >> 8) · 256 + f32(acc & 255), both terms exact and the one rounding the addition's,
// because WGSL lets a plain i32 → f32 conversion round either way once |acc| ≥ 2²⁴; the multiply
// and add are correctly rounded and `round` is half-to-even in WGSL.
//
// Neighbouring columns of a row share a word and belong to different threads, so the launcher
// zeroes C and each byte is ORed in atomically.
// Bindings: 2 = bias (i32, HAS_BIAS), 3 = C words, 7 = multipliers (f32, one per column).

override OUTPUT_U8: bool = false;
override HAS_BIAS: bool = false;
override RELU: bool = false;

@group(0) @binding(2) var<storage, read> bias: array<i32>;
@group(0) @binding(3) var<storage, read_write> c_words: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read> multipliers: array<f32>;

fn requantize(acc: i32, col: u32) -> u32 {
    var total = acc;
    if HAS_BIAS {
        total += bias[col];
    }
    let value = f32(total >> 8u) * 256.0 + f32(total & 0xff);
    let scaled = round(value * multipliers[col]);
    let zero_point = f32(params.y_zero_point);
    var low = select(-128.0, 0.0, OUTPUT_U8);
    if RELU {
        low = max(low, zero_point);
    }
    let q = clamp(scaled + zero_point, low, select(127.0, 255.0, OUTPUT_U8));
    return bitcast<u32>(i32(q)) & 0xffu;
}

fn store_c(batch: u32, row: u32, col: u32, acc: i32) {
    let index = (batch * params.m + row) * params.n + col;
    atomicOr(&c_words[index / 4u], requantize(acc, col) << (8u * (index % 4u)));
}
