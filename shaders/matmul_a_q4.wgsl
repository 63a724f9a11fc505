// A as kiln's int4 weights (the bindings file and q4_decode.wgsl joined before this one),
// dequantized into f32 tiles exactly as Q4Weights::dequantize does ((q − zero_point) · scale, an
// integer in [−15, 15] times an f16: exact in f32): the convolution's implicit GEMM with a weight
// that stays int4, so the core's f32 accumulation is the only rounding, as for f32 operands.
//
// Assumes: A is the weight [M, K] with K = C/groups·kH·kW, in groups of Q4_GROUP_SIZE (32, 64 or
// 128) along K, each row padded to whole groups with nibbles equal to its last group's zero point
// (they dequantize to 0); params.b_groups_per_row is ceil(K / group size). The core's batch is the
// conv group, whose rows are M/groups = params.m consecutive weight rows. Each thread loads four
// consecutive k of one row: k0 is a multiple of 16 and kq of 4, so the four nibbles lie in one
// half of one word and in one group.

// Elements of K per group: 32, 64 or 128, set by the launcher.
override Q4_GROUP_SIZE: u32 = 32u;

fn load_tile_a(batch: u32, row0: u32, k0: u32, thread: u32) {
    let row = thread / 4u;
    let kq = (thread % 4u) * 4u;
    let m = row0 + row;
    let k = k0 + kq;
    var value = vec4<f32>(0.0);
    if m < params.m && k < params.k {
        let weight_row = batch * params.m + m;
        let words_per_row = params.b_groups_per_row * Q4_GROUP_SIZE / 8u;
        let nibbles = q4_nibbles[weight_row * words_per_row + k / 8u] >> (4u * (k % 8u));
        let q = vec4<f32>(
            f32(nibbles & 0xFu),
            f32((nibbles >> 4u) & 0xFu),
            f32((nibbles >> 8u) & 0xFu),
            f32((nibbles >> 12u) & 0xFu),
        );
        let group = weight_row * params.b_groups_per_row + k / Q4_GROUP_SIZE;
        value = (q - q4_zero_point(group)) * q4_scale(group);
    }
    scatter_a_k4(row, kq, value);
}
