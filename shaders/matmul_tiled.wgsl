// Tiled GEMM core shared by the f32, f16 and int4-weight kernels: C[b] = epilogue(A[b] · B[b]).
//
// Assumes: a workgroup of 16×16 threads computes a 64×64 tile of C. Each thread owns a 4×4 block
// (register blocking: 16 accumulators; per k step it reads one vec4 of A and one vec4 of B from
// workgroup memory for 16 multiply-adds). K advances 16 at a time through workgroup memory.
// Accumulation is in f32 whatever the operand types.
//
// Three operand files joined after this one define the layout-specific parts, one each:
//   matmul_a_*.wgsl: fn load_tile_a(batch: u32, row0: u32, k0: u32, thread: u32)  fills tile_a
//   matmul_b_*.wgsl: fn load_tile_b(batch: u32, col0: u32, k0: u32, thread: u32)  fills tile_b
//   matmul_c_*.wgsl: fn store_c(batch: u32, row: u32, col: u32, value: f32)
// Bindings: 0 = A, 1 = B, 2 = bias (matmul_epilogue.wgsl), 3 = C, 4 = params, 5+ = B's extras.
// Loaders write zeros outside the matrix, so tails in M, N and K need no special case here.
// tile_a[k * 16 + i] holds A[row0 + 4i .. row0 + 4i + 3, k0 + k] (four rows at one k);
// tile_b[k * 16 + j] holds B[k0 + k, col0 + 4j .. col0 + 4j + 3] (four columns at one k).

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    batch: u32,
    // Element offsets between consecutive batches; 0 for an operand shared by every batch.
    a_batch_stride: u32,
    b_batch_stride: u32,
    c_batch_stride: u32,
    // Groups per row of a group-quantized B (int4); unused otherwise.
    b_groups_per_row: u32,
}

@group(0) @binding(4) var<uniform> params: MatmulParams;

var<workgroup> tile_a: array<vec4<f32>, 256>;
var<workgroup> tile_b: array<vec4<f32>, 256>;

// Loaders that read four consecutive k of one row of a K-contiguous matrix (A, or B stored [N, K])
// scatter them into the k-major tiles with these. `slot` is the row (or column) within the tile.
fn scatter_a_k4(slot: u32, kq: u32, value: vec4<f32>) {
    for (var j = 0u; j < 4u; j++) {
        tile_a[(kq + j) * 16u + slot / 4u][slot % 4u] = value[j];
    }
}

fn scatter_b_k4(slot: u32, kq: u32, value: vec4<f32>) {
    for (var j = 0u; j < 4u; j++) {
        tile_b[(kq + j) * 16u + slot / 4u][slot % 4u] = value[j];
    }
}

@compute @workgroup_size(16, 16, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let batch = group.z;
    let row0 = group.y * TILE_M;
    let col0 = group.x * TILE_N;
    let thread = local.y * 16u + local.x;
    var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var k0 = 0u; k0 < params.k; k0 += TILE_K) {
        load_tile_a(batch, row0, k0, thread);
        load_tile_b(batch, col0, k0, thread);
        workgroupBarrier();
        for (var k = 0u; k < TILE_K; k++) {
            let a = tile_a[k * 16u + local.y];
            let b = tile_b[k * 16u + local.x];
            acc[0] = fma(vec4<f32>(a.x), b, acc[0]);
            acc[1] = fma(vec4<f32>(a.y), b, acc[1]);
            acc[2] = fma(vec4<f32>(a.z), b, acc[2]);
            acc[3] = fma(vec4<f32>(a.w), b, acc[3]);
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let row = row0 + local.y * 4u + i;
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + local.x * 4u + j;
            if row < params.m && col < params.n {
                store_c(batch, row, col, apply_epilogue(acc[i][j], col));
            }
        }
    }
}
