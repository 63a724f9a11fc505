// The shared end of kiln's GEMV kernels (dense, int4, N:M): a workgroup of 8 rows × 32 threads
// computes ROWS_PER_WORKGROUP = 8 output channels, one per row of threads; each thread holds a
// partial dot product, and reduce_rows_and_store adds a row's 32 partials by a tree through
// workgroup memory (portable: no subgroups), applies the epilogue (matmul_epilogue.wgsl) and
// stores. Outputs are stored in pairs (an even channel and the next) through the operand file's
// store_y2, so a packed-f16 output writes whole words without atomics; ROWS_PER_WORKGROUP is even
// for that. The kernel using it declares `params` with fields `n` (outputs) and `k`.
// Call it from uniform control flow: it contains barriers.

const ROWS_PER_WORKGROUP: u32 = 8u;
const THREADS_PER_ROW: u32 = 32u;

var<workgroup> partial_sums: array<f32, 256>;

fn fma4(a: vec4<f32>, w: vec4<f32>, acc: f32) -> f32 {
    return fma(a.w, w.w, fma(a.z, w.z, fma(a.y, w.y, fma(a.x, w.x, acc))));
}

fn reduce_rows_and_store(local: vec3<u32>, col: u32, acc: f32) {
    let slot = local.y * THREADS_PER_ROW + local.x;
    partial_sums[slot] = acc;
    workgroupBarrier();
    for (var stride = THREADS_PER_ROW / 2u; stride > 0u; stride /= 2u) {
        if local.x < stride {
            partial_sums[slot] += partial_sums[slot + stride];
        }
        workgroupBarrier();
    }
    if local.x == 0u && local.y % 2u == 0u && col < params.n {
        let first = apply_epilogue(partial_sums[slot], col);
        var second = 0.0;
        if col + 1u < params.n {
            second = apply_epilogue(partial_sums[slot + THREADS_PER_ROW], col + 1u);
        }
        store_y2(col, first, second);
    }
}
