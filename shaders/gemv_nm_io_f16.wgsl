// N:M GEMV operands as native f16 (joined after gemv_nm.wgsl; the program starts with
// enable_f16.wgsl): the activation row x [K], gathered one element at a time and widened to f32
// exactly, and the output y [N], rounded to f16. Each f16 is its own memory location, so the pair
// store needs nothing special.

@group(0) @binding(0) var<storage, read> x: array<f16>;
@group(0) @binding(3) var<storage, read_write> y: array<f16>;

fn x_at(k: u32) -> f32 {
    if k < params.k {
        return f32(x[k]);
    }
    return 0.0;
}

fn store_y2(col: u32, first: f32, second: f32) {
    y[col] = f16(first);
    if col + 1u < params.n {
        y[col + 1u] = f16(second);
    }
}
