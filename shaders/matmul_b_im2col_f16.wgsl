// The conv input x as native f16 for the im2col B loader (matmul_b_im2col.wgsl; the program starts
// with enable_f16.wgsl): NCHW, any shape, widened to f32 exactly.

@group(0) @binding(1) var<storage, read> x: array<f16>;

// x at four indices, zero where an index is −1.
fn load_x4(indices: vec4<i32>) -> vec4<f32> {
    var value = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if indices[j] >= 0 {
            value[j] = f32(x[indices[j]]);
        }
    }
    return value;
}
