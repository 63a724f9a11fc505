// Int8 W8A8 GEMM (ONNX MatMulInteger), exact in i32, then handed to store_c:
//   acc[b, m, n] = Σ_k (a[b·M + m, k] − a_zp[m])·(w[n, k] − w_zp[n])
// (a_zp is one zero point, or one per row m of every batch, as ONNX MatMulInteger allows)
//
// Assumes the layouts of src/tensor/q8.rs: A is [batch · M, K] and W is [N, K] (shared by every
// batch), both int8 with K contiguous and every row padded to k_words = ceil(K / 4) u32 words,
// byte j of a word holding k = 4·word + j. So both operands are read as words, and the inner loop
// is a pure dot product of packed words once the zero points are expanded out:
//   acc = Σ a·w − a_zp·Σ_k w[n, k] − w_zp[n]·Σ_k a[m, k] + K·a_zp·w_zp[n]
// Σ_k w[n, k] is the weights' row_sums (binding 5). Σ_k a[m, k] is summed here from the A words as
// they are loaded (dot4_i8(word, 0x01010101)): four extra dot products per thread per K tile
// against 256 in the inner loop, with no pre-pass and no extra buffer. All arithmetic wraps in
// i32: the exact result fits i32 for K ≤ 32768 (|a − a_zp|, |w − w_zp| ≤ 255 and
// 32768 · 255² < 2³¹; the launcher checks K), so any intermediate overflow cancels.
//
// Tiles, as in matmul_tiled.wgsl's f32 core but counted in words: 16×16 threads compute a 64×64
// tile of C, each thread a 4×4 block (register blocking: 16 i32 accumulators; per word step it
// reads one vec4<u32> of A words and one of W words from workgroup memory for 16 dot4_i8, that is
// 64 multiply-adds). K advances TILE_KW = 16 words (64 values) per tile through 2 × 4 KiB of
// workgroup memory; each thread loads four consecutive words of one A row and of one W row per
// tile. Why these sizes: 256 threads and 9 KiB of workgroup memory fit WebGPU's default limits on
// every device, 16 accumulators stay in registers, and 16 words keep each operand tile at the f32
// core's 4 KiB; loads are scalar words, so any K works without a vec4 variant.
// tile_a[word * 16 + i] holds the words of A rows row0 + 4i .. row0 + 4i + 3 at one word of K;
// tile_w[word * 16 + j] holds those of W rows (output columns) col0 + 4j .. col0 + 4j + 3.
// Loaders write zero words outside the matrices and mask the bytes past K in a row's last word,
// so tails in M, N and K need no special case and padding bytes never count, whatever they hold.
//
// Joined with: dot4_i8_*.wgsl (fn dot4_i8(a: u32, b: u32) -> i32) before this file, and
// matmul_q8_store_*.wgsl (fn store_c(batch: u32, row: u32, col: u32, acc: i32)) after it.
// Bindings: 0 = A words, 1 = W words, 2 = bias (f32 store only, matmul_epilogue.wgsl), 3 = C,
// 4 = params, 5 = W row sums, 6 = W zero points (i32), 7 = W scales (f32 store only),
// 8 = A zero points (i32: one, or one per row when params.a_zero_point_per_row is 1; read from the
// device, so a zero point computed at run time by DynamicQuantizeLinear never goes to the host).

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_KW: u32 = 16u;
// Four int8 ones: dot4_i8(word, ONES_I8X4) sums the word's four values.
const ONES_I8X4: u32 = 0x01010101u;

struct Q8Params {
    m: u32,
    n: u32,
    k: u32,
    k_words: u32,
    // Keeps the bytes of a row's last word that lie before K (all ones when K % 4 == 0).
    last_word_mask: u32,
    a_zero_point_per_row: u32,
    a_scale: f32,
    // The output zero point of the requantizing store (matmul_q8_store_q8.wgsl).
    y_zero_point: i32,
}

@group(0) @binding(0) var<storage, read> a_words: array<u32>;
@group(0) @binding(1) var<storage, read> w_words: array<u32>;
@group(0) @binding(4) var<uniform> params: Q8Params;
@group(0) @binding(5) var<storage, read> w_row_sums: array<i32>;
@group(0) @binding(6) var<storage, read> w_zero_points: array<i32>;
@group(0) @binding(8) var<storage, read> a_zero_points: array<i32>;

var<workgroup> tile_a: array<vec4<u32>, 256>;
var<workgroup> tile_w: array<vec4<u32>, 256>;
// Each thread's share of Σ_k a for the A row it loads (tile row thread / 4).
var<workgroup> a_sum_parts: array<i32, 256>;

fn mask_past_k(word: u32, value: u32) -> u32 {
    return select(value, value & params.last_word_mask, word + 1u == params.k_words);
}

fn a_word(batch: u32, row: u32, word: u32) -> u32 {
    if row < params.m && word < params.k_words {
        return mask_past_k(word, a_words[(batch * params.m + row) * params.k_words + word]);
    }
    return 0u;
}

fn w_word(col: u32, word: u32) -> u32 {
    if col < params.n && word < params.k_words {
        return mask_past_k(word, w_words[col * params.k_words + word]);
    }
    return 0u;
}

// One A word against four W words: a row of a thread's 4×4 block.
fn dot4_i8_row(a: u32, w: vec4<u32>) -> vec4<i32> {
    return vec4<i32>(dot4_i8(a, w.x), dot4_i8(a, w.y), dot4_i8(a, w.z), dot4_i8(a, w.w));
}

@compute @workgroup_size(16, 16, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let batch = group.z;
    let row0 = group.y * TILE_M;
    let col0 = group.x * TILE_N;
    let thread = local.y * 16u + local.x;
    // On every K tile this thread loads words load_word .. load_word + 3 of tile row (and tile
    // column) load_slot.
    let load_slot = thread / 4u;
    let load_word = (thread % 4u) * 4u;
    var acc = array<vec4<i32>, 4>(vec4<i32>(0), vec4<i32>(0), vec4<i32>(0), vec4<i32>(0));
    var a_sum_part = 0i;
    for (var word0 = 0u; word0 < params.k_words; word0 += TILE_KW) {
        for (var j = 0u; j < 4u; j++) {
            let tile_index = (load_word + j) * 16u + load_slot / 4u;
            let a = a_word(batch, row0 + load_slot, word0 + load_word + j);
            a_sum_part += dot4_i8(a, ONES_I8X4);
            tile_a[tile_index][load_slot % 4u] = a;
            tile_w[tile_index][load_slot % 4u] = w_word(col0 + load_slot, word0 + load_word + j);
        }
        workgroupBarrier();
        for (var word = 0u; word < TILE_KW; word++) {
            let a = tile_a[word * 16u + local.y];
            let w = tile_w[word * 16u + local.x];
            acc[0] += dot4_i8_row(a.x, w);
            acc[1] += dot4_i8_row(a.y, w);
            acc[2] += dot4_i8_row(a.z, w);
            acc[3] += dot4_i8_row(a.w, w);
        }
        workgroupBarrier();
    }
    a_sum_parts[thread] = a_sum_part;
    workgroupBarrier();
    for (var i = 0u; i < 4u; i++) {
        let tile_row = local.y * 4u + i;
        let row = row0 + tile_row;
        let per_row = params.a_zero_point_per_row == 1u;
        let a_zero_point = a_zero_points[select(0u, min(row, params.m - 1u), per_row)];
        let k_a_zero_point = i32(params.k) * a_zero_point;
        // Tile row r was loaded, a quarter each, by threads 4r .. 4r + 3.
        let a_sum = a_sum_parts[4u * tile_row] + a_sum_parts[4u * tile_row + 1u]
            + a_sum_parts[4u * tile_row + 2u] + a_sum_parts[4u * tile_row + 3u];
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + local.x * 4u + j;
            if row < params.m && col < params.n {
                let w_zero_point = w_zero_points[col];
                let zero_point_terms = k_a_zero_point * w_zero_point
                    - a_zero_point * w_row_sums[col] - w_zero_point * a_sum;
                store_c(batch, row, col, acc[i][j] + zero_point_terms);
            }
        }
    }
}
