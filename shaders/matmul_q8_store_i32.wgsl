// C as the exact i32 accumulators (ONNX MatMulInteger's output), row-major [batch · M, N].

@group(0) @binding(3) var<storage, read_write> c: array<i32>;

fn store_c(batch: u32, row: u32, col: u32, acc: i32) {
    c[(batch * params.m + row) * params.n + col] = acc;
}
