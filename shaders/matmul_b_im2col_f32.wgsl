// The conv input x as f32 for the im2col B loader (matmul_b_im2col.wgsl): NCHW, any shape.

@group(0) @binding(1) var<storage, read> x: array<f32>;

// x at four indices, zero where an index is −1.
fn load_x4(indices: vec4<i32>) -> vec4<f32> {
    var value = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if indices[j] >= 0 {
            value[j] = x[indices[j]];
        }
    }
    return value;
}
