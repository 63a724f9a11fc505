// Dequantizing kiln's int8 weights (layout contract in src/tensor/q8.rs) for the weight-only
// kernels: W is [N, K], K contiguous, each row padded with zero bytes to ceil(K / 4) words; byte j
// of word i is element 4i + j of its row (two's complement), with one f32 scale and one i32 zero
// point per row. Uint8 weights arrive already shifted by −128 with their zero points (exact: only
// q − zero_point is ever used). The arrays q8_words, q8_scales and q8_zero_points are declared by
// the bindings file joined before this one: q8_weights.wgsl for the matmul's B (bindings 1, 5,
// 6), conv_a_q8_bindings.wgsl for the convolution's A (bindings 0, 6, 7).

// W[row, k .. k + 3] for k % 4 == 0, dequantized as Q8Weights::dequantize does it: the integer
// q − zero_point (in [−255, 255], exact in f32) times the scale, one correctly rounded f32
// product, so the values equal the CPU's bit for bit. Elements at and past `cols` (the row's zero
// padding, which would dequantize to −zero_point · scale) are 0.
fn q8_load4(row: u32, k: u32, cols: u32) -> vec4<f32> {
    let word = bitcast<i32>(q8_words[row * ((cols + 3u) / 4u) + k / 4u]);
    let zero_point = q8_zero_points[row];
    let scale = q8_scales[row];
    var value = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if k + j < cols {
            value[j] = f32(extractBits(word, 8u * j, 8u) - zero_point) * scale;
        }
    }
    return value;
}
