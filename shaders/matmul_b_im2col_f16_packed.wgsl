// The conv input x as packed f16 for the im2col B loader (matmul_b_im2col.wgsl), for devices
// without SHADER_F16: u32 words holding two f16 each, the even element in the low half (the bytes
// of `half::f16` data as uploaded). Every element is gathered on its own, so each read picks its
// half by the index's parity; any shape.

@group(0) @binding(1) var<storage, read> x: array<u32>;

// x at four indices, zero where an index is −1.
fn load_x4(indices: vec4<i32>) -> vec4<f32> {
    var value = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if indices[j] >= 0 {
            let index = u32(indices[j]);
            value[j] = unpack2x16float(x[index / 2u])[index % 2u];
        }
    }
    return value;
}
