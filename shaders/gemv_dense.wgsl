// Dense GEMV: y = epilogue(a · Wᵀ) for one activation row a [K] and a dense weight W [N, K]
// (K contiguous, as a Linear layer stores it). Memory-bound: every weight is read once.
//
// Assumes: a single activation row (batch·M = 1; larger products use the tiled kernel) and
// N ≤ 8 × the device's workgroups per dimension. The 32 threads of a row of the workgroup split K
// in runs of four (neighbouring threads read neighbouring runs, so loads coalesce); the reduction,
// epilogue and paired store are gemv_reduce.wgsl's. Accumulation is f32 with fma, so the error
// bound of an f32 dot product applies.
//
// The weight file joined after this one defines
//   fn load_w4(col: u32, k: u32) -> vec4<f32>     W[col, k .. k + 3] (k % 4 == 0), 0 past K
// and an operand file (gemv_io_*.wgsl) defines load_a4 and store_y2.
// Bindings: 0 = a, 1 = W, 2 = bias, 3 = y, 4 = params.

struct GemvParams {
    n: u32,
    k: u32,
}

@group(0) @binding(4) var<uniform> params: GemvParams;

@compute @workgroup_size(32, 8, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let col = group.x * ROWS_PER_WORKGROUP + local.y;
    var acc = 0.0;
    if col < params.n {
        for (var k = local.x * 4u; k < params.k; k += THREADS_PER_ROW * 4u) {
            acc = fma4(load_a4(k), load_w4(col, k), acc);
        }
    }
    reduce_rows_and_store(local, col, acc);
}
