// Int8 weights [N, K] for gemv_dense.wgsl (the weight-only int8 GEMV): four k per load, one word,
// dequantized by q8_decode.wgsl (joined before this file, after q8_weights.wgsl) exactly as the
// CPU does it.

fn load_w4(col: u32, k: u32) -> vec4<f32> {
    return q8_load4(col, k, params.k);
}
