// BSR GEMM, pass 1, int8 weights × int8 activations: for a tile of 64 activation rows and one
// chunk of stored blocks, the exact i32 partial sums Σ x_q[row, k] · w_q[n, k] of the chunk's R
// block rows. The activation zero point is left to the reduce (acc = Σ x·w − x_zp · Σ w), so this
// pass is a pure sum of packed dot products; all arithmetic wraps in i32, and the launcher keeps
// K ≤ 32768 so the final accumulator is exact.
//
// Assumes the work list and layout described in bsr_work.wgsl and the int8 words of
// bsr_q8_operands.wgsl. As in bsr_gemm.wgsl the chunk's blocks side by side form a dense
// R × gathered matrix, here walked in gathered words of four columns: for C ≥ 4 a gathered word
// is one word of a block row and the x word of the same four k (C is a multiple of 4 and blocks
// start at k = col · C, so words line up); for 32×1 blocks (C = 1), four consecutive blocks' single
// columns, so staging packs four x bytes (one per block's k) and, per row r, four weight bytes
// (one per block) into one word each; the inner loop is dot4_i8 in every shape. TILE_GW = 16
// gathered words (64 columns) per step through 6 KiB of workgroup memory; 64 threads, each
// ROWS_PER_THREAD × COLS_PER_THREAD = R i32 accumulators of the 64 × R tile (set by the launcher).
//
// Joined with: dot4_i8_*.wgsl first (fn dot4_i8(a: u32, b: u32) -> i32), then bsr_work.wgsl,
// bsr_q8_operands.wgsl and this file.

override ROWS_PER_THREAD: u32 = 2u;
override COLS_PER_THREAD: u32 = 2u;

const TILE_M: u32 = 64u;
const TILE_GW: u32 = 16u;
const GEMM_THREADS: u32 = 64u;

@group(0) @binding(3) var<storage, read_write> partials: array<i32>;

var<workgroup> tile_x: array<u32, 1024>;
var<workgroup> tile_w: array<u32, 512>;

// The chunk's gathered words: four gathered columns each, the last one padded with zeros.
fn gathered_words(span: vec2<u32>) -> u32 {
    return ((span.y - span.x) * BLOCK_COLS + 3u) / 4u;
}

// The k of gathered columns 4·gw .. 4·gw + 3 of the chunk; past the chunk, 4 · k_words, which
// x_word and x_byte_bits read as 0.
fn gathered_ks(span: vec2<u32>, gw: u32) -> vec4<u32> {
    var ks = vec4<u32>(4u * params.k_words);
    for (var j = 0u; j < 4u; j++) {
        let g = 4u * gw + j;
        if g < (span.y - span.x) * BLOCK_COLS {
            ks[j] = col_idx[span.x + g / BLOCK_COLS] * BLOCK_COLS + g % BLOCK_COLS;
        }
    }
    return ks;
}

// x[row] at the gathered columns `ks` (from gathered_ks), packed: for C ≥ 4 they are one word
// of x, for C = 1 four bytes from four words.
fn gathered_x_word(row: u32, ks: vec4<u32>) -> u32 {
    if BLOCK_COLS == 1u {
        return x_byte_bits(row, ks.x) | (x_byte_bits(row, ks.y) << 8u)
            | (x_byte_bits(row, ks.z) << 16u) | (x_byte_bits(row, ks.w) << 24u);
    }
    return x_word(row, ks.x / 4u);
}

// Block row r's weights at gathered columns 4·gw .. 4·gw + 3 of the chunk, packed.
fn gathered_w_word(span: vec2<u32>, r: u32, gw: u32) -> u32 {
    if BLOCK_COLS == 1u {
        var word = 0u;
        for (var byte = 0u; byte < 4u; byte++) {
            let block = span.x + 4u * gw + byte;
            if block < span.y {
                word |= w_byte_bits(block * block_area() + r) << (8u * byte);
            }
        }
        return word;
    }
    let g = 4u * gw;
    let element = (span.x + g / BLOCK_COLS) * block_area() + r * BLOCK_COLS + g % BLOCK_COLS;
    return w_words[element / 4u];
}

// TILE_GW divides the thread count, so each thread stages one gathered word (one lookup of its
// k) for every fourth row.
fn stage(span: vec2<u32>, row0: u32, gw0: u32, thread: u32) {
    let word_count = gathered_words(span);
    let ks = gathered_ks(span, gw0 + thread % TILE_GW);
    for (var slot = thread; slot < TILE_GW * TILE_M; slot += GEMM_THREADS) {
        let m = slot / TILE_GW;
        tile_x[slot % TILE_GW * TILE_M + m] = gathered_x_word(row0 + m, ks);
    }
    for (var slot = thread; slot < TILE_GW * BLOCK_ROWS; slot += GEMM_THREADS) {
        let gw = slot % TILE_GW;
        var word = 0u;
        if gw0 + gw < word_count {
            word = gathered_w_word(span, slot / TILE_GW, gw0 + gw);
        }
        tile_w[gw * BLOCK_ROWS + slot / TILE_GW] = word;
    }
}

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(local_invocation_index) thread: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let chunk = workgroup_index(group, groups);
    if chunk >= params.chunk_count {
        return;
    }
    let row0 = group.z * TILE_M;
    let span = chunks[chunk];
    let word_count = gathered_words(span);
    let row_groups = TILE_M / ROWS_PER_THREAD;
    let col_groups = BLOCK_ROWS / COLS_PER_THREAD;
    let row_group = thread % row_groups;
    let col_group = thread / row_groups;
    var acc: array<i32, 32>;
    var x_reg: array<u32, 4>;
    var w_reg: array<u32, 8>;
    for (var gw0 = 0u; gw0 < word_count; gw0 += TILE_GW) {
        stage(span, row0, gw0, thread);
        workgroupBarrier();
        for (var gw = 0u; gw < TILE_GW; gw++) {
            for (var i = 0u; i < ROWS_PER_THREAD; i++) {
                x_reg[i] = tile_x[gw * TILE_M + row_group + i * row_groups];
            }
            for (var j = 0u; j < COLS_PER_THREAD; j++) {
                w_reg[j] = tile_w[gw * BLOCK_ROWS + col_group + j * col_groups];
            }
            for (var i = 0u; i < ROWS_PER_THREAD; i++) {
                for (var j = 0u; j < COLS_PER_THREAD; j++) {
                    acc[i * COLS_PER_THREAD + j] += dot4_i8(x_reg[i], w_reg[j]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < ROWS_PER_THREAD; i++) {
        let row = row0 + row_group + i * row_groups;
        if row < params.rows {
            for (var j = 0u; j < COLS_PER_THREAD; j++) {
                let r = col_group + j * col_groups;
                partials[partial_index(chunk, row, r)] = acc[i * COLS_PER_THREAD + j];
            }
        }
    }
}
