// BSR output as f32, row-major [rows, N] (joined after bsr_reduce.wgsl): a pair of outputs is two
// plain stores, the second skipped past the end.

@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn store_pair(first: u32, a: f32, b: f32) {
    y[first] = a;
    if first + 1u < params.m * params.n {
        y[first + 1u] = b;
    }
}
