// A as f32 stored transposed, [K, M] (ONNX Gemm with transA = 1), one element per load: any shape.
// Each thread loads four neighbouring rows (m) at one k, which are contiguous in this layout, so
// loads stay coalesced across the workgroup, and stores them as one vec4 of the k-major tile.

@group(0) @binding(0) var<storage, read> a: array<f32>;

fn a_t_at(batch: u32, row: u32, k: u32) -> f32 {
    if row < params.m && k < params.k {
        return a[batch * params.a_batch_stride + k * params.m + row];
    }
    return 0.0;
}

fn load_tile_a(batch: u32, row0: u32, k0: u32, thread: u32) {
    // 256 threads: thread t loads k = t / 16 and rows 4·(t % 16) .. +3.
    let k = thread / 16u;
    let rq = (thread % 16u) * 4u;
    tile_a[k * 16u + rq / 4u] = vec4<f32>(
        a_t_at(batch, row0 + rq, k0 + k),
        a_t_at(batch, row0 + rq + 1u, k0 + k),
        a_t_at(batch, row0 + rq + 2u, k0 + k),
        a_t_at(batch, row0 + rq + 3u, k0 + k),
    );
}
