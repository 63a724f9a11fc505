// C as f32, row-major.

@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn store_c(batch: u32, row: u32, col: u32, value: f32) {
    c[batch * params.c_batch_stride + row * params.n + col] = value;
}
