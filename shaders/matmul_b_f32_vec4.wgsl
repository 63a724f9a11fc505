// B as f32, read as vec4. Assumes K % 4 == 0 when B is transposed ([N, K]) and N % 4 == 0 when it
// is not ([K, N]), so every vec4 lies inside one row.

override B_TRANSPOSED: bool = false;

@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;

fn load_tile_b(batch: u32, col0: u32, k0: u32, thread: u32) {
    let base = batch * params.b_batch_stride;
    if B_TRANSPOSED {
        // [N, K]: like A, four consecutive k of one column.
        let col = thread / 4u;
        let kq = (thread % 4u) * 4u;
        var value = vec4<f32>(0.0);
        if col0 + col < params.n && k0 + kq < params.k {
            value = b[(base + (col0 + col) * params.k + k0 + kq) / 4u];
        }
        scatter_b_k4(col, kq, value);
    } else {
        // [K, N]: thread t loads k = t / 16, columns 4·(t % 16) .. +3, straight into the tile.
        let k = thread / 16u;
        let cq = (thread % 16u) * 4u;
        var value = vec4<f32>(0.0);
        if k0 + k < params.k && col0 + cq < params.n {
            value = b[(base + (k0 + k) * params.n + col0 + cq) / 4u];
        }
        tile_b[k * 16u + cq / 4u] = value;
    }
}
