// N:M GEMV operands as f32 (joined after gemv_nm.wgsl): the activation row x [K], gathered one
// element at a time, and the output y [N].

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn x_at(k: u32) -> f32 {
    if k < params.k {
        return x[k];
    }
    return 0.0;
}

fn store_y2(col: u32, first: f32, second: f32) {
    y[col] = first;
    if col + 1u < params.n {
        y[col + 1u] = second;
    }
}
