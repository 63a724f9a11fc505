// B as kiln's int4 weights (layout contract in src/tensor/q4.rs), dequantized into f32 tiles:
// w = (q − zero_point) · scale. q − zero_point is an integer in [−15, 15] and the scale an f16, so
// the product fits f32's 24-bit significand and the tile holds exactly Q4Weights::dequantize's
// values; the core's f32 accumulation is then the only rounding, as for f32 operands.
//
// Assumes: W is [N, K] (B transposed, K contiguous) and shared by every batch; groups of
// Q4_GROUP_SIZE = 32, 64 or 128 elements along K; each row padded to whole groups with nibbles
// equal to its last group's zero point, so they dequantize to exactly 0 and a quad that straddles
// K needs no mask. Each thread loads four consecutive k of one column: k0 is a multiple of 16 and
// kq of 4, so the four nibbles lie in one half of one word and in one group (group sizes are
// multiples of 4), which costs one word, one scale and one zero point per thread per tile.
// Bindings 1, 5 and 6 are in q4_weights.wgsl and the decoding helpers in q4_decode.wgsl, joined
// before this file.
// params.b_groups_per_row is ceil(K / group size).

// Elements of K per group: 32, 64 or 128, set by the launcher.
override Q4_GROUP_SIZE: u32 = 32u;

fn load_tile_b(batch: u32, col0: u32, k0: u32, thread: u32) {
    let col = thread / 4u;
    let kq = (thread % 4u) * 4u;
    let n = col0 + col;
    let k = k0 + kq;
    var value = vec4<f32>(0.0);
    if n < params.n && k < params.k {
        let words_per_row = params.b_groups_per_row * Q4_GROUP_SIZE / 8u;
        let nibbles = q4_nibbles[n * words_per_row + k / 8u] >> (4u * (k % 8u));
        let q = vec4<f32>(
            f32(nibbles & 0xFu),
            f32((nibbles >> 4u) & 0xFu),
            f32((nibbles >> 8u) & 0xFu),
            f32((nibbles >> 12u) & 0xFu),
        );
        let group = n * params.b_groups_per_row + k / Q4_GROUP_SIZE;
        value = (q - q4_zero_point(group)) * q4_scale(group);
    }
    scatter_b_k4(col, kq, value);
}
