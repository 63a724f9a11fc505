// C as native f16, row-major (the program starts with enable_f16.wgsl). Each f16 element is its own
// memory location, so threads owning neighbouring columns never race. WGSL leaves the conversion of
// values beyond f16's finite range (±65504) indeterminate, so such outputs are not specified.

@group(0) @binding(3) var<storage, read_write> c: array<f16>;

fn store_c(batch: u32, row: u32, col: u32, value: f32) {
    c[batch * params.c_batch_stride + row * params.n + col] = f16(value);
}
