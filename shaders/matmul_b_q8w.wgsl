// B as kiln's int8 weights (q8_weights.wgsl and q8_decode.wgsl, joined before this file),
// dequantized into f32 tiles for the weight-only int8 matmul (W8A32): the tile holds exactly
// Q8Weights::dequantize's values, so the core's f32 accumulation is the only rounding, as for f32
// operands.
//
// Assumes: W is [N, K] (B transposed, K contiguous) and shared by every batch. Each thread loads
// four consecutive k of one column: k0 is a multiple of 16 and kq of 4, so the four bytes are one
// word of the padded row, read with its row's scale and zero point.

fn load_tile_b(batch: u32, col0: u32, k0: u32, thread: u32) {
    let col = thread / 4u;
    let kq = (thread % 4u) * 4u;
    let n = col0 + col;
    var value = vec4<f32>(0.0);
    if n < params.n && k0 + kq < params.k {
        value = q8_load4(n, k0 + kq, params.k);
    }
    scatter_b_k4(col, kq, value);
}
