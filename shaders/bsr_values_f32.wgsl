// BSR block values as f32 for the BSR GEMM and GEMV (src/tensor/bsr.rs: BsrValues::F32). Every
// block starts on a 16-byte boundary (block areas are multiples of 16), so the values are
// declared as vec4 and a run of four aligned elements is one 16-byte load.

@group(0) @binding(1) var<storage, read> values: array<vec4<f32>>;

// Elements element .. element + 3 (element % 4 == 0).
fn load_w4(element: u32) -> vec4<f32> {
    return values[element / 4u];
}

fn load_w(element: u32) -> f32 {
    return values[element / 4u][element % 4u];
}
