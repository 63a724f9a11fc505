// kiln's int4 weights as the matmul kernels read them (layout contract in src/tensor/q4.rs), as
// B: the tiled B loader (matmul_b_q4.wgsl) and the GEMV (gemv_q4.wgsl); q4_decode.wgsl, joined
// after this file, decodes the scales and zero points.
// Bindings: 1 = nibbles, eight per u32, low first; 5 = f16 scales, two per u32, low half first;
// 6 = zero points, four per u32, byte j of word i is group 4i + j.

@group(0) @binding(1) var<storage, read> q4_nibbles: array<u32>;
@group(0) @binding(5) var<storage, read> q4_scales: array<u32>;
@group(0) @binding(6) var<storage, read> q4_zero_points: array<u32>;
