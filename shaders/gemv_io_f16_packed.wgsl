// GEMV operands as packed f16 for devices without SHADER_F16 (joined after a GEMV kernel: gemv_dense.wgsl, gemv_q4.wgsl): u32
// words holding two f16 each, the even element in the low half, converted with unpack2x16float and
// pack2x16float. The row starts at word 0 and load_a4's k is a multiple of 4, so its four values
// are the two words k / 2 and k / 2 + 1. The core stores outputs in pairs starting at an even
// column, so each pair is exactly one word: plain stores, no atomics and no zeroed output needed
// (with odd N the last word's high half is 0).

@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;

fn load_a4(k: u32) -> vec4<f32> {
    if k >= params.k {
        return vec4<f32>(0.0);
    }
    let valid = params.k - k;
    var high = vec2<f32>(0.0);
    if valid > 2u {
        high = unpack2x16float(a[k / 2u + 1u]);
    }
    let value = vec4<f32>(unpack2x16float(a[k / 2u]), high);
    return select(value, vec4<f32>(0.0), vec4<u32>(0u, 1u, 2u, 3u) >= vec4<u32>(valid));
}

fn store_y2(col: u32, first: f32, second: f32) {
    y[col / 2u] = pack2x16float(vec2<f32>(first, second));
}
