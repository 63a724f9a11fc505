// kiln's int8 weights as the convolution's implicit GEMM reads them, as its A (the weight
// [M, C/groups·kH·kW], matmul_a_q8w.wgsl); q8_decode.wgsl, joined after this file, dequantizes
// them. Bindings 1 to 5 are the conv's (x, bias, y, the core's params, the geometry).
// Bindings: 0 = values, four per u32; 6 = one f32 scale per row; 7 = one i32 zero point per row.

@group(0) @binding(0) var<storage, read> q8_words: array<u32>;
@group(0) @binding(6) var<storage, read> q8_scales: array<f32>;
@group(0) @binding(7) var<storage, read> q8_zero_points: array<i32>;
