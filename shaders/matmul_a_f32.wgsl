// A as f32, one element per load: any shape. Each thread loads four neighbouring k of one row,
// so loads stay coalesced across the workgroup.

@group(0) @binding(0) var<storage, read> a: array<f32>;

fn a_at(batch: u32, row: u32, k: u32) -> f32 {
    if row < params.m && k < params.k {
        return a[batch * params.a_batch_stride + row * params.k + k];
    }
    return 0.0;
}

fn load_tile_a(batch: u32, row0: u32, k0: u32, thread: u32) {
    let row = thread / 4u;
    let kq = (thread % 4u) * 4u;
    let base = k0 + kq;
    scatter_a_k4(row, kq, vec4<f32>(
        a_at(batch, row0 + row, base),
        a_at(batch, row0 + row, base + 1u),
        a_at(batch, row0 + row, base + 2u),
        a_at(batch, row0 + row, base + 3u),
    ));
}
