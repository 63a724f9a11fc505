// A dense f32 weight [N, K] for gemv_dense.wgsl, read as vec4 (16-byte loads). Assumes K % 4 == 0,
// so a run of four never straddles rows, and gemv_dense only asks for k < K.

@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;

fn load_w4(col: u32, k: u32) -> vec4<f32> {
    return w[(col * params.k + k) / 4u];
}
