// C dequantized to f32 through the shared epilogue (matmul_epilogue.wgsl, activation.wgsl):
// act(a_scale · w_scale[col] · acc + bias[col]), row-major [batch · M, N]. Four f32 roundings
// (the scale product, i32 → f32 which WGSL may round either way, the product, the bias) before the
// activation; `reference_q8` in src/ops/matmul/int8/reference.rs derives its tolerance from them.

@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(7) var<storage, read> w_scales: array<f32>;

fn store_c(batch: u32, row: u32, col: u32, acc: i32) {
    let scale = params.a_scale * w_scales[col];
    c[(batch * params.m + row) * params.n + col] = apply_epilogue(scale * f32(acc), col);
}
