// BSR block values as f16 for the BSR GEMM and GEMV (src/tensor/bsr.rs: BsrValues::F16), read as
// u32 words on any device (no SHADER_F16): element 2w is the low half of word w, widened exactly
// to f32 by unpack2x16float. Block areas are multiples of 16, so the values are a whole number
// of vec2<u32> (four elements, one 8-byte load).

@group(0) @binding(1) var<storage, read> values: array<vec2<u32>>;

// Elements element .. element + 3 (element % 4 == 0).
fn load_w4(element: u32) -> vec4<f32> {
    let words = values[element / 4u];
    return vec4<f32>(unpack2x16float(words.x), unpack2x16float(words.y));
}

fn load_w(element: u32) -> f32 {
    let word = values[element / 4u][(element / 2u) % 2u];
    return unpack2x16float(word)[element % 2u];
}
