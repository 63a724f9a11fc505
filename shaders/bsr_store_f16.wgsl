// BSR output as f16 packed two per u32 word (any device, no SHADER_F16), row-major [rows, N],
// element 2w in the low half of word w (joined after bsr_reduce.wgsl, whose pairs start at even
// elements, so each pair is exactly one word). WGSL leaves values beyond f16's finite range
// (±65504) indeterminate, as for every f16 output in kiln.

@group(0) @binding(3) var<storage, read_write> y: array<u32>;

fn store_pair(first: u32, a: f32, b: f32) {
    y[first / 2u] = pack2x16float(vec2<f32>(a, b));
}
