// The work list and parameters every BSR pass-1 kernel reads (bsr_gemm.wgsl, bsr_gemv.wgsl,
// bsr_gemm_q8.wgsl, bsr_gemv_q8.wgsl). Joined before the kernel; WGSL declarations may be used
// before they appear, so only the dot4 file (whose `requires` must come first) precedes it.
//
// Assumes the layout contract of src/tensor/bsr.rs (stored block b of an R × C grid holds R·C
// values at b·R·C, row-major; col_idx[b] is its block column) and the work list of
// src/ops/sparse/bsr/work_list.rs: chunk c covers the stored blocks chunks[c].x .. chunks[c].y,
// at least one and all of the same block row, so its values are one contiguous run. Pass 1
// writes R partial sums per chunk and activation row to partials[(c · rows + row) · R + r]
// (one workgroup per chunk in the GEMM, a group of threads per chunk in the GEMV);
// bsr_reduce*.wgsl adds a block row's chunks in order.
// Workgroups are numbered across a 2-D grid (x + y · num_workgroups.x) because there can be more
// chunks than the 65535 workgroups one dimension allows; workgroups past the last chunk return at
// once (a uniform branch: it depends on the workgroup only).
// Block shapes are pipeline constants, so each shape compiles to its own loop bounds and
// power-of-two divisions.
// Bindings: 0 = activations, 1 = block values, 3 = partials, 4 = params, 5 = col_idx,
// 6 = chunks.

override BLOCK_ROWS: u32 = 4u;
override BLOCK_COLS: u32 = 4u;

struct BsrParams {
    // Activation rows (batch · M).
    rows: u32,
    // K.
    k: u32,
    // ceil(K / 4): u32 words per int8 activation row.
    k_words: u32,
    chunk_count: u32,
}

@group(0) @binding(4) var<uniform> params: BsrParams;
@group(0) @binding(5) var<storage, read> col_idx: array<u32>;
@group(0) @binding(6) var<storage, read> chunks: array<vec2<u32>>;

fn block_area() -> u32 {
    return BLOCK_ROWS * BLOCK_COLS;
}

// The index of workgroup `group` in a grid of `groups`, counting x and y only (z is rows).
fn workgroup_index(group: vec3<u32>, groups: vec3<u32>) -> u32 {
    return group.x + group.y * groups.x;
}

// Where chunk c's partial sum for activation row `row` and block row r goes.
fn partial_index(chunk: u32, row: u32, r: u32) -> u32 {
    return (chunk * params.rows + row) * BLOCK_ROWS + r;
}
