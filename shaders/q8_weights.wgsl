// kiln's int8 weights as the weight-only (W8A32) matmul reads them, as its B: the tiled B loader
// (matmul_b_q8w.wgsl) and the GEMV weight file (gemv_w_q8.wgsl); q8_decode.wgsl, joined after this
// file, dequantizes them.
// Bindings: 1 = values, four per u32; 5 = one f32 scale per row; 6 = one i32 zero point per row.

@group(0) @binding(1) var<storage, read> q8_words: array<u32>;
@group(0) @binding(5) var<storage, read> q8_scales: array<f32>;
@group(0) @binding(6) var<storage, read> q8_zero_points: array<i32>;
