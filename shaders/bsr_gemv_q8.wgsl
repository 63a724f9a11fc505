// BSR GEMV, pass 1, int8 weights × int8 activations: for one activation row and one chunk of
// stored blocks, the exact i32 partial sums Σ x_q[k] · w_q[n, k] of the chunk's R block rows (the
// activation zero point is left to the reduce: acc = Σ x·w − x_zp · Σ w). Memory-bound: the
// chunk's weight bytes are streamed once.
//
// Assumes the work list and layout described in bsr_work.wgsl and the int8 words of
// bsr_q8_operands.wgsl. As in bsr_gemv.wgsl a group of CHUNK_THREADS threads sweeps the chunk's
// contiguous values in windows of 4 · CHUNK_THREADS elements, thread t reading word t of each
// window (coalesced 4-byte loads), and bsr_gemv_slots.wgsl sums the lanes per block row. For
// C ≥ 4 the word is four columns of one block row and the x word of the same four k lines up with
// it (C is a multiple of 4), so the thread adds one dot4_i8 into lane 0 (the other lanes stay 0:
// all four elements share a block row). For 32×1 blocks (C = 1) the word is four block rows of one column: there is no dot
// product along k inside a word, so each byte is sign-extended and multiplied by the one x value
// in i32 on both Dot4Paths. All arithmetic wraps in i32; the launcher keeps K ≤ 32768, so the
// final accumulator is exact.
//
// Joined with: dot4_i8_*.wgsl first (fn dot4_i8(a: u32, b: u32) -> i32), then bsr_work.wgsl,
// bsr_q8_operands.wgsl, bsr_gemv_slots.wgsl and this file.

alias SlotValue = i32;

@group(0) @binding(3) var<storage, read_write> partials: array<i32>;

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
    var lanes = vec4<i32>(0);
    for (var element = 4u * (thread % CHUNK_THREADS); element < element_count;
        element += gemv_window()) {
        let block_col = col_idx[span.x + element / block_area()];
        let w = w_words[(first_element + element) / 4u];
        if BLOCK_COLS == 1u {
            lanes += i8_lanes(w) * i8_byte(x_word(row, block_col / 4u), block_col % 4u);
        } else {
            let k = block_col * BLOCK_COLS + element % block_area() % BLOCK_COLS;
            lanes.x += dot4_i8(w, x_word(row, k / 4u));
        }
    }
    let total = sum_slots_by_block_row(thread, lanes);
    if chunk < params.chunk_count && thread % CHUNK_THREADS < BLOCK_ROWS {
        partials[partial_index(chunk, row, thread % CHUNK_THREADS)] = total;
    }
}
