// BSR GEMV, pass 1, f32 or f16 weights: for one activation row and one chunk of stored blocks,
// the R partial sums Σ W[n, k] · x[k] of the chunk's block row. Memory-bound (batch · M small):
// the point is to stream the chunk's weights once, at full bandwidth.
//
// Assumes the work list and layout described in bsr_work.wgsl (joined with it). A chunk's values
// are contiguous, so its group of CHUNK_THREADS threads (bsr_gemv_slots.wgsl: several chunks
// share a 256-thread workgroup when blocks are small) sweeps them in windows of
// 4 · CHUNK_THREADS elements, thread t taking the four consecutive elements 4t .. 4t + 3 of each
// window: one 16-byte (f32) or 8-byte (f16) load per thread, neighbouring threads on neighbouring
// addresses, so loads coalesce whatever the block shape. Every window is a whole number of
// blocks, so a thread's four elements always sit at the same offsets within a block: for C ≥ 4
// they are four columns of one block row (the matching four x values are consecutive), for 32×1
// blocks (C = 1) four block rows sharing one x value. Either way lane l accumulates its own
// element's products with fma in f32, so the f32 dot-product error bound applies to any order;
// bsr_gemv_slots.wgsl sums lanes per block row. x is read through the cache (x_at,
// bounds-checked: 0 at k ≥ K, the zero padding of edge blocks).
// The activation row is group.z (the launcher dispatches one grid layer per row).
//
// Joined with: bsr_work.wgsl, bsr_gemv_slots.wgsl, one values file (bsr_values_*.wgsl:
// fn load_w4(element: u32) -> vec4<f32>, element % 4 == 0) and one activation file
// (bsr_x_*.wgsl: fn x_at(row: u32, k: u32) -> f32).

alias SlotValue = f32;

@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

// The x values of lanes element .. element + 3 of a block in block column `block_col`.
fn x4_at(row: u32, block_col: u32, element: u32) -> vec4<f32> {
    let offset = element % block_area();
    let k0 = block_col * BLOCK_COLS;
    return vec4<f32>(
        x_at(row, k0 + offset % BLOCK_COLS),
        x_at(row, k0 + (offset + 1u) % BLOCK_COLS),
        x_at(row, k0 + (offset + 2u) % BLOCK_COLS),
        x_at(row, k0 + (offset + 3u) % BLOCK_COLS),
    );
}

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(local_invocation_index) thread: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    // This workgroup's chunks: one per group of CHUNK_THREADS threads.
    let first_chunk = workgroup_index(group, groups) * (GEMV_THREADS / CHUNK_THREADS);
    if first_chunk >= params.chunk_count {
        return;
    }
    let chunk = first_chunk + thread / CHUNK_THREADS;
    let row = group.z;
    var span = vec2<u32>(0u);
    if chunk < params.chunk_count {
        span = chunks[chunk];
    }
    let first_element = span.x * block_area();
    let element_count = (span.y - span.x) * block_area();
    var lanes = vec4<f32>(0.0);
    for (var element = 4u * (thread % CHUNK_THREADS); element < element_count;
        element += gemv_window()) {
        let block_col = col_idx[span.x + element / block_area()];
        lanes = fma(load_w4(first_element + element), x4_at(row, block_col, element), lanes);
    }
    let total = sum_slots_by_block_row(thread, lanes);
    if chunk < params.chunk_count && thread % CHUNK_THREADS < BLOCK_ROWS {
        partials[partial_index(chunk, row, thread % CHUNK_THREADS)] = total;
    }
}
