// A as f32, read as vec4 (16-byte loads). Assumes K % 4 == 0, so a vec4 never straddles rows and is
// wholly in or out of bounds.

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;

fn load_tile_a(batch: u32, row0: u32, k0: u32, thread: u32) {
    // 256 threads × one vec4: thread t loads row t / 4, k offsets 4·(t % 4) .. +3.
    let row = thread / 4u;
    let kq = (thread % 4u) * 4u;
    var value = vec4<f32>(0.0);
    if row0 + row < params.m && k0 + kq < params.k {
        value = a[(batch * params.a_batch_stride + (row0 + row) * params.k + k0 + kq) / 4u];
    }
    scatter_a_k4(row, kq, value);
}
