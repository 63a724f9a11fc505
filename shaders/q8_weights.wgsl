// kiln's int8 weights as the weight-only (W8A32) kernels read them (layout contract in
// src/tensor/q8.rs), shared by the tiled B loader (matmul_b_q8w.wgsl) and the GEMV weight file
// (gemv_w_q8.wgsl). W is [N, K], K contiguous, each row padded with zero bytes to ceil(K / 4)
// words. Uint8 weights arrive here already shifted by −128 with their zero points (exact: only
// q − zero_point is ever used).
// Bindings: 1 = values, four per u32, byte j of word i is element 4i + j of its row (int8, two's
// complement); 5 = one f32 scale per row; 6 = one i32 zero point per row.

@group(0) @binding(1) var<storage, read> q8_words: array<u32>;
@group(0) @binding(5) var<storage, read> q8_scales: array<f32>;
@group(0) @binding(6) var<storage, read> q8_zero_points: array<i32>;

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
