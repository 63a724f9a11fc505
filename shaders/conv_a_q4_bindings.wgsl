// kiln's int4 weights as the convolution's implicit GEMM reads them, as its A (the weight
// [M, C/groups·kH·kW], matmul_a_q4.wgsl); q4_decode.wgsl, joined after this file, decodes the
// scales and zero points. Bindings 1 to 5 are the conv's (x, bias, y, the core's params, the
// geometry).
// Bindings: 0 = nibbles, eight per u32, low first; 6 = f16 scales, two per u32, low half first;
// 7 = zero points, four per u32, byte j of word i is group 4i + j.

@group(0) @binding(0) var<storage, read> q4_nibbles: array<u32>;
@group(0) @binding(6) var<storage, read> q4_scales: array<u32>;
@group(0) @binding(7) var<storage, read> q4_zero_points: array<u32>;
