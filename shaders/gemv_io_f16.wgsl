// GEMV operands as native f16 (joined after gemv_q4.wgsl; the program starts with enable_f16.wgsl):
// the activation row a [K], widened to f32 exactly, and the output y [N], rounded to f16. Each f16
// is its own memory location, so the pair store needs nothing special.

@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(3) var<storage, read_write> y: array<f16>;

fn a_at(k: u32) -> f32 {
    if k < params.k {
        return f32(a[k]);
    }
    return 0.0;
}

fn load_a4(k: u32) -> vec4<f32> {
    return vec4<f32>(a_at(k), a_at(k + 1u), a_at(k + 2u), a_at(k + 3u));
}

fn store_y2(col: u32, first: f32, second: f32) {
    y[col] = f16(first);
    if col + 1u < params.n {
        y[col + 1u] = f16(second);
    }
}
