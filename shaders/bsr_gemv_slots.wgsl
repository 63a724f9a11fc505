// The end of the BSR GEMVs (bsr_gemv.wgsl, bsr_gemv_q8.wgsl). A workgroup of 256 threads serves
// 256 / CHUNK_THREADS chunks, one per group of CHUNK_THREADS = clamp(R·C / 4, 32, 256) threads
// (set by the launcher), so short chunks (light block rows, 1×32 blocks) do not leave most of a
// workgroup idle. A group sweeps its chunk in windows of 4 · CHUNK_THREADS elements, a multiple of
// the block area: thread t of the group holds four accumulator lanes for elements 4t .. 4t + 3 of
// every window, so lane l always belongs to element offset (4t + l) % R·C of a block, that is to
// block row ((4t + l) % R·C) / C. Block row r thus owns 4 · CHUNK_THREADS / R slots of the group:
// column c of the window's q-th copy of the block is its term q·C + c. They are summed in a fixed
// order (deterministic) with two barriers after the store, not a binary tree's log2 of the slot
// count: first sums of FAN_IN = min(16, terms per row) consecutive terms of one block row, then
// thread r < R of the group adds its row's sums. Two barriers matter on software Vulkan (lavapipe
// runs every invocation through every barrier phase) and cost little on GPUs, where 16-long
// serial sums are short beside the weight loads before them. Portable: no subgroups.
// The kernel joined with this file declares `alias SlotValue = f32;` (or i32).
// Call from uniform control flow: it contains barriers.

override CHUNK_THREADS: u32 = 256u;

const GEMV_THREADS: u32 = 256u;

var<workgroup> slots: array<SlotValue, 1024>;
var<workgroup> sums: array<SlotValue, 256>;

// Elements a chunk's thread group reads per step.
fn gemv_window() -> u32 {
    return 4u * CHUNK_THREADS;
}

// Block row r's terms per group, and how many go into one first-stage sum.
fn terms_per_row() -> u32 {
    return gemv_window() / BLOCK_ROWS;
}

fn fan_in() -> u32 {
    return min(16u, terms_per_row());
}

// The slot of block row r's term j in the group whose slots start at `base`: column j % C of
// the block's copy j / C in the window.
fn slot_of(base: u32, r: u32, term: u32) -> u32 {
    return base + term / BLOCK_COLS * block_area() + r * BLOCK_COLS + term % BLOCK_COLS;
}

// For thread t of its group below R, block row t's total over the group's lanes; 0 for others.
fn sum_slots_by_block_row(thread: u32, lanes: vec4<SlotValue>) -> SlotValue {
    for (var lane = 0u; lane < 4u; lane++) {
        slots[4u * thread + lane] = lanes[lane];
    }
    workgroupBarrier();
    let group_first = thread - thread % CHUNK_THREADS;
    let local = thread % CHUNK_THREADS;
    let sums_per_row = terms_per_row() / fan_in();
    if local < BLOCK_ROWS * sums_per_row {
        let r = local / sums_per_row;
        let first = local % sums_per_row * fan_in();
        var sum = SlotValue(0);
        for (var term = first; term < first + fan_in(); term++) {
            sum += slots[slot_of(4u * group_first, r, term)];
        }
        sums[thread] = sum;
    }
    workgroupBarrier();
    var total = SlotValue(0);
    if local < BLOCK_ROWS {
        let first = group_first + local * sums_per_row;
        for (var index = first; index < first + sums_per_row; index++) {
            total += sums[index];
        }
    }
    return total;
}
