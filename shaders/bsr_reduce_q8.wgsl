// BSR pass 2 (reduce), int8: the exact accumulator of every output,
//   acc[row, n] = Σ_k (x[row, k] − x_zp) · w[n, k] = Σ partials − x_zp · Σ_k w[n, k],
// with the partials (Σ x·w per chunk, from bsr_gemm_q8.wgsl or bsr_gemv_q8.wgsl) of n's block
// row added in ascending chunk order and Σ_k w[n, k] over the stored blocks from binding 8
// (computed at upload). Wrapping i32 arithmetic; exact because the launcher keeps K ≤ 32768.
// A block row without stored blocks gives acc = 0. The store is the dense int8 kernel's
// (matmul_q8_store_*.wgsl: the i32 accumulator, or act(x_scale · w_scale[n] · acc + bias[n]) in
// f32 through the shared epilogue), called with batch 0 on the flat [rows, N] output.
//
// Assumes partials[(c · rows + row) · R + r] as bsr_work.wgsl lays them out. One thread per
// output, numbered across a 2-D grid of 256-wide workgroups (x + y · num_workgroups.x).
// Joined with: (for f32 output) activation.wgsl and matmul_epilogue.wgsl before, one of
// matmul_q8_store_i32.wgsl / matmul_q8_store_f32.wgsl after.
// Bindings: 2 = bias (f32 output), 3 = y, 4 = params, 5 = partials, 6 = chunk_ptr,
// 7 = w_scales (f32 output), 8 = Σ w per output row.

struct ReduceParams {
    // Activation rows (batch · M).
    m: u32,
    // Output channels N.
    n: u32,
    // R.
    block_rows: u32,
    a_zero_point: i32,
    a_scale: f32,
}

@group(0) @binding(4) var<uniform> params: ReduceParams;
@group(0) @binding(5) var<storage, read> partials: array<i32>;
@group(0) @binding(6) var<storage, read> chunk_ptr: array<u32>;
@group(0) @binding(8) var<storage, read> w_row_sums: array<i32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(local_invocation_index) thread: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let element = (group.x + group.y * groups.x) * 256u + thread;
    if element >= params.m * params.n {
        return;
    }
    let row = element / params.n;
    let col = element % params.n;
    let block_row = col / params.block_rows;
    let r = col % params.block_rows;
    var acc = -params.a_zero_point * w_row_sums[col];
    for (var chunk = chunk_ptr[block_row]; chunk < chunk_ptr[block_row + 1u]; chunk++) {
        acc += partials[(chunk * params.m + row) * params.block_rows + r];
    }
    store_c(0u, row, col, acc);
}
