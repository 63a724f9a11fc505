// Int4 weight-only GEMV: y = epilogue(a · Wᵀ) for one activation row a [K] and kiln's int4 weights
// W [N, K] (layout contract in src/tensor/q4.rs). Memory-bound: every weight word is read once.
//
// Assumes: a single activation row starting at element 0 (batch·M = 1; larger products use the
// tiled kernel), and N ≤ 8 × the device's workgroups per dimension (one dispatch row). A workgroup
// of 8 rows × 32 threads computes ROWS_PER_WORKGROUP = 8 output channels, one per row of threads;
// the 32 threads of a row split K by whole u32 words (8 weights each; neighbouring threads read
// neighbouring words, so loads coalesce) and read the matching 8 activations. Each weight is
// dequantized exactly, w = (q − zero_point) · scale (an integer in [−15, 15] times an f16 fits
// f32's significand), and accumulated with fma in f32, so the error bound of an f32 dot product
// applies unchanged. The 32 partial sums of a row are added by gemv_reduce.wgsl (joined before
// this file).
// Padding nibbles past K dequantize to 0 and load_a4 returns 0 past K, so the last word needs no
// special case.
//
// One operand file joined after this one defines, for its dtype:
//   fn load_a4(k: u32) -> vec4<f32>                       a[k .. k + 3] (k % 4 == 0), 0 past K
//   fn store_y2(col: u32, first: f32, second: f32)        y[col], and y[col + 1] if col + 1 < N
// Bindings: 0 = a, 1 = nibbles, 2 = bias (matmul_epilogue.wgsl), 3 = y, 4 = params,
// 5 = f16 scales two per u32, 6 = zero points four per u32 (declared in q4_weights.wgsl and
// decoded by q4_decode.wgsl, both joined before this file).

struct GemvParams {
    n: u32,
    k: u32,
    groups_per_row: u32,
    words_per_row: u32,
    // group size / 8
    words_per_group: u32,
}

@group(0) @binding(4) var<uniform> params: GemvParams;

// Four weights from four nibbles of `word`, starting at bit `shift`.
fn dequantize4(word: u32, shift: u32, zero_point: f32, scale: f32) -> vec4<f32> {
    let nibbles = word >> shift;
    let q = vec4<f32>(
        f32(nibbles & 0xFu),
        f32((nibbles >> 4u) & 0xFu),
        f32((nibbles >> 8u) & 0xFu),
        f32((nibbles >> 12u) & 0xFu),
    );
    return (q - zero_point) * scale;
}

@compute @workgroup_size(32, 8, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let col = group.x * ROWS_PER_WORKGROUP + local.y;
    var acc = 0.0;
    if col < params.n {
        let words_with_k = (params.k + 7u) / 8u;
        for (var word = local.x; word < words_with_k; word += THREADS_PER_ROW) {
            let nibbles = q4_nibbles[col * params.words_per_row + word];
            let group_index = col * params.groups_per_row + word / params.words_per_group;
            let zero_point = q4_zero_point(group_index);
            let scale = q4_scale(group_index);
            let k = word * 8u;
            acc = fma4(load_a4(k), dequantize4(nibbles, 0u, zero_point, scale), acc);
            acc = fma4(load_a4(k + 4u), dequantize4(nibbles, 16u, zero_point, scale), acc);
        }
    }
    reduce_rows_and_store(local, col, acc);
}
