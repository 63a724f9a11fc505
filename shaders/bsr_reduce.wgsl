// BSR pass 2 (reduce), f32 or f16 output: y[row, n] = act(Σ partials + bias[n]) for every output,
// where the sum runs over the chunks of n's block row (chunk_ptr[i] .. chunk_ptr[i + 1], written
// by bsr_gemm.wgsl or bsr_gemv.wgsl) in ascending order, so results are deterministic. A block
// row without stored blocks has no chunks and yields act(bias[n]) (act(0) without bias).
//
// Assumes partials[(c · rows + row) · R + r] as bsr_work.wgsl lays them out (neighbouring threads
// read neighbouring r: coalesced). Each thread owns two consecutive outputs of the flat
// row-major [rows, N] output (elements 2p and 2p + 1, possibly in two rows when N is odd), so a
// packed-f16 output is written in whole words with plain stores, no atomics and no zeroing; with
// an odd total the last word's high half is 0. Threads are numbered across a 2-D grid of 256-wide
// workgroups (x + y · num_workgroups.x) to pass the 65535-per-dimension limit.
//
// Joined with: activation.wgsl and matmul_epilogue.wgsl (apply_epilogue; bias at binding 2)
// before, one store file after (bsr_store_*.wgsl: fn store_pair(first: u32, a: f32, b: f32)).
// Bindings: 2 = bias, 3 = y, 4 = params, 5 = partials, 6 = chunk_ptr.

struct ReduceParams {
    // Activation rows (batch · M), the `m` of the output.
    m: u32,
    // Output channels N.
    n: u32,
    // R.
    block_rows: u32,
}

@group(0) @binding(4) var<uniform> params: ReduceParams;
@group(0) @binding(5) var<storage, read> partials: array<f32>;
@group(0) @binding(6) var<storage, read> chunk_ptr: array<u32>;

fn output_value(element: u32) -> f32 {
    let row = element / params.n;
    let col = element % params.n;
    let block_row = col / params.block_rows;
    let r = col % params.block_rows;
    var sum = 0.0;
    for (var chunk = chunk_ptr[block_row]; chunk < chunk_ptr[block_row + 1u]; chunk++) {
        sum += partials[(chunk * params.m + row) * params.block_rows + r];
    }
    return apply_epilogue(sum, col);
}

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(local_invocation_index) thread: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let first = 2u * ((group.x + group.y * groups.x) * 256u + thread);
    let total = params.m * params.n;
    if first >= total {
        return;
    }
    var second = 0.0;
    if first + 1u < total {
        second = output_value(first + 1u);
    }
    store_pair(first, output_value(first), second);
}
