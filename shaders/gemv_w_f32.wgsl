// A dense f32 weight [N, K] for gemv_dense.wgsl, one element per load: any K.

@group(0) @binding(1) var<storage, read> w: array<f32>;

fn w_at(col: u32, k: u32) -> f32 {
    if k < params.k {
        return w[col * params.k + k];
    }
    return 0.0;
}

fn load_w4(col: u32, k: u32) -> vec4<f32> {
    return vec4<f32>(w_at(col, k), w_at(col, k + 1u), w_at(col, k + 2u), w_at(col, k + 3u));
}
