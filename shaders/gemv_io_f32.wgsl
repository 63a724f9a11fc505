// GEMV operands as f32 (joined after a GEMV kernel: gemv_dense.wgsl, gemv_q4.wgsl): the activation row a [K] and the output y [N].

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn a_at(k: u32) -> f32 {
    if k < params.k {
        return a[k];
    }
    return 0.0;
}

fn load_a4(k: u32) -> vec4<f32> {
    return vec4<f32>(a_at(k), a_at(k + 1u), a_at(k + 2u), a_at(k + 3u));
}

fn store_y2(col: u32, first: f32, second: f32) {
    y[col] = first;
    if col + 1u < params.n {
        y[col + 1u] = second;
    }
}
