// A as native f16 (the program starts with enable_f16.wgsl), one element per load: any shape, no
// alignment assumed. Each thread loads four neighbouring k of one row, so loads stay coalesced
// across the workgroup, and widens them to f32 exactly. Reads only `params` and writes only through
// the core's scatter_a_k4, so it pairs with any B loader (the int4-weight kernel reuses it).

@group(0) @binding(0) var<storage, read> a: array<f16>;

fn a_f16_at(batch: u32, row: u32, k: u32) -> f32 {
    if row < params.m && k < params.k {
        return f32(a[batch * params.a_batch_stride + row * params.k + k]);
    }
    return 0.0;
}

fn load_tile_a(batch: u32, row0: u32, k0: u32, thread: u32) {
    let row = thread / 4u;
    let kq = (thread % 4u) * 4u;
    let base = k0 + kq;
    scatter_a_k4(row, kq, vec4<f32>(
        a_f16_at(batch, row0 + row, base),
        a_f16_at(batch, row0 + row, base + 1u),
        a_f16_at(batch, row0 + row, base + 2u),
        a_f16_at(batch, row0 + row, base + 3u),
    ));
}
