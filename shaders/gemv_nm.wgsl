// N:M-sparse GEMV: y = epilogue(x · Wᵀ) for one activation row x [K] and an N:M-sparse weight
// W [N, K] (layout contract in src/tensor/nm_sparse.rs). Memory-bound: every kept value and
// position word is read once, and only kept · K / group multiply-adds are done (half of dense for
// 2:4), so it reads kept / group of the dense bytes plus index_bits / group bits per column.
//
// Assumes: a single activation row starting at element 0 (batch·M = 1; larger products use the
// tiled kernel), and N ≤ 8 × the device's workgroups per dimension (one dispatch row). A workgroup
// of 8 rows × 32 threads computes ROWS_PER_WORKGROUP = 8 output channels, one per row of threads
// (gemv_reduce.wgsl, joined before this file, adds the 32 partial sums, applies the epilogue and
// stores pairs). The 32 threads of a row split the row's slots (kept values) round robin: thread t
// takes slots t, t + 32, t + 64, ..., so each value load of a row of threads reads 32 neighbouring
// values (coalesced), the 32 position fields come from one to four words, and the x gathers fall
// in the narrow run of columns those slots cover (64 columns, two 128-byte lines of f32 x, for
// 2:4). Four slots per step keep four independent loads in flight per thread. x is gathered from
// the storage buffer at kept positions only: it is small and shared by every row, so it stays in
// cache. Accumulation is f32 with fma, so the error bound of an f32 dot product applies; padding
// positions past K hold 0 and x_at returns 0 there without reading x.
//
// One operand file joined after this one defines, for its dtype:
//   fn x_at(k: u32) -> f32                                x[k], 0 for k ≥ K
//   fn store_y2(col: u32, first: f32, second: f32)        y[col], and y[col + 1] if col + 1 < N
// Bindings: 0 = x, 1 = values, 2 = bias (matmul_epilogue.wgsl), 3 = y, 4 = params,
// 5 = positions (nm_positions.wgsl and nm_values_*.wgsl are joined before this file).

struct GemvParams {
    n: u32,
    k: u32,
    slots_per_row: u32,
    words_per_row: u32,
}

@group(0) @binding(4) var<uniform> params: GemvParams;

// acc + W's slot `slot` of the row with first value `row_value` and first position word `row_word`
// times x at its column.
fn add_slot(row_value: u32, row_word: u32, slot: u32, acc: f32) -> f32 {
    let k = slot / NM_KEPT * NM_GROUP + nm_position(row_word, slot);
    return fma(nm_value(row_value + slot), x_at(k), acc);
}

@compute @workgroup_size(32, 8, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let col = group.x * ROWS_PER_WORKGROUP + local.y;
    var acc = 0.0;
    if col < params.n {
        let row_value = col * params.slots_per_row;
        let row_word = col * params.words_per_row;
        let slots = params.slots_per_row;
        var slot = local.x;
        for (; slot + 3u * THREADS_PER_ROW < slots; slot += 4u * THREADS_PER_ROW) {
            acc = add_slot(row_value, row_word, slot, acc);
            acc = add_slot(row_value, row_word, slot + THREADS_PER_ROW, acc);
            acc = add_slot(row_value, row_word, slot + 2u * THREADS_PER_ROW, acc);
            acc = add_slot(row_value, row_word, slot + 3u * THREADS_PER_ROW, acc);
        }
        for (; slot < slots; slot += THREADS_PER_ROW) {
            acc = add_slot(row_value, row_word, slot, acc);
        }
    }
    reduce_rows_and_store(local, col, acc);
}
