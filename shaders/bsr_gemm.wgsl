// BSR GEMM, pass 1, f32 or f16 weights: for a tile of 64 activation rows and one chunk of stored
// blocks, the partial sums Σ W[n, k] · x[row, k] of the chunk's R block rows.
//
// Assumes the work list and layout described in bsr_work.wgsl (joined with it). The chunk's
// blocks, laid side by side, form a dense R × (blocks · C) matrix whose gathered column g is
// column col_idx[first + g / C] · C + g % C of W; so the chunk is a small dense GEMM,
// [64 rows × gathered] · [gathered × R], stepped TILE_G = 32 gathered columns at a time (one
// 32×32 block, two 16×16, four 8×8, eight 4×4, one 1×32 or thirty-two 32×1 blocks) through
// workgroup memory: tile_x[g][m] (8 KiB, from x_at, so rows ≥ rows and k ≥ K are 0) and
// tile_w[g][r] (≤ 4 KiB). A step's blocks are consecutive stored blocks, so its TILE_G · R values
// are one contiguous run, loaded in address order (coalesced). Zero blocks are never read.
// 64 threads; each owns 4 consecutive rows (one vec4 load of tile_x per gathered column) and
// COLS_PER_THREAD = max(R / 4, 1) consecutive block rows r, so per gathered column it does
// 4 · COLS_PER_THREAD fma for 1 + COLS_PER_THREAD workgroup loads (the w loads are broadcasts:
// 16 threads share each). 16 row groups × R / COLS_PER_THREAD column groups cover the 64 × R
// tile; for R = 1 that is only 16 threads, so K_SPLIT = 4 thread groups take every fourth
// gathered column and their sums are added at the end (fixed order). 12 KiB of workgroup memory
// and at most 8 vec4 accumulators fit WebGPU's default limits and registers on every device.
// Accumulation is f32 with fma, so the f32 dot-product error bound holds in any order.
//
// Joined with: bsr_work.wgsl, one values file (bsr_values_*.wgsl: fn load_w(element) -> f32)
// and one activation file (bsr_x_*.wgsl: fn x_at(row, k) -> f32).

override COLS_PER_THREAD: u32 = 1u;
override K_SPLIT: u32 = 1u;

const TILE_M: u32 = 64u;
const TILE_G: u32 = 32u;
const GEMM_THREADS: u32 = 64u;
// Groups of four rows in the tile.
const ROW_GROUPS: u32 = 16u;

@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

var<workgroup> tile_x: array<vec4<f32>, 512>;
var<workgroup> tile_w: array<f32, 1024>;

// tile_x[g][m / 4][m % 4] = x[row0 + m, gathered column g0 + g], 0 past the chunk. TILE_G divides the
// thread count, so each thread stages one gathered column (one col_idx lookup) for every
// second row.
fn stage_x(span: vec2<u32>, row0: u32, g0: u32, gathered_len: u32, thread: u32) {
    let g = thread % TILE_G;
    let gathered = g0 + g;
    var k = params.k;
    if gathered < gathered_len {
        k = col_idx[span.x + gathered / BLOCK_COLS] * BLOCK_COLS + gathered % BLOCK_COLS;
    }
    for (var m = thread / TILE_G; m < TILE_M; m += GEMM_THREADS / TILE_G) {
        tile_x[g * ROW_GROUPS + m / 4u][m % 4u] = x_at(row0 + m, k);
    }
}

// tile_w[g][r] = W[block row's r, gathered column g0 + g], 0 past the chunk.
fn stage_w(span: vec2<u32>, g0: u32, gathered_len: u32, thread: u32) {
    let first_element = (span.x + g0 / BLOCK_COLS) * block_area();
    for (var offset = thread; offset < TILE_G * BLOCK_ROWS; offset += GEMM_THREADS) {
        let in_block = offset % block_area();
        let g = offset / block_area() * BLOCK_COLS + in_block % BLOCK_COLS;
        var value = 0.0;
        if g0 + g < gathered_len {
            value = load_w(first_element + offset);
        }
        tile_w[g * BLOCK_ROWS + in_block / BLOCK_COLS] = value;
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
    let gathered_len = (span.y - span.x) * BLOCK_COLS;
    let col_groups = BLOCK_ROWS / COLS_PER_THREAD;
    let row_group = thread % ROW_GROUPS;
    let first_r = thread / ROW_GROUPS % col_groups * COLS_PER_THREAD;
    let slice = thread / (ROW_GROUPS * col_groups);
    var acc: array<vec4<f32>, 8>;
    for (var g0 = 0u; g0 < gathered_len; g0 += TILE_G) {
        stage_x(span, row0, g0, gathered_len, thread);
        stage_w(span, g0, gathered_len, thread);
        workgroupBarrier();
        for (var g = slice; g < TILE_G; g += K_SPLIT) {
            let x4 = tile_x[g * ROW_GROUPS + row_group];
            for (var j = 0u; j < COLS_PER_THREAD; j++) {
                acc[j] = fma(x4, vec4<f32>(tile_w[g * BLOCK_ROWS + first_r + j]), acc[j]);
            }
        }
        workgroupBarrier();
    }
    if K_SPLIT > 1u {
        // Only R = 1 splits (COLS_PER_THREAD = 1): slice s's sums go to tile_x[s][row group],
        // and slice 0 adds them in slice order.
        tile_x[slice * ROW_GROUPS + row_group] = acc[0];
        workgroupBarrier();
        acc[0] = tile_x[row_group];
        for (var other = 1u; other < K_SPLIT; other++) {
            acc[0] += tile_x[other * ROW_GROUPS + row_group];
        }
    }
    if slice == 0u {
        for (var i = 0u; i < 4u; i++) {
            let row = row0 + 4u * row_group + i;
            if row < params.rows {
                for (var j = 0u; j < COLS_PER_THREAD; j++) {
                    partials[partial_index(chunk, row, first_r + j)] = acc[j][i];
                }
            }
        }
    }
}
