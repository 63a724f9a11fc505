// N:M GEMV operands as packed f16 for devices without SHADER_F16 (joined after gemv_nm.wgsl): u32
// words holding two f16 each, the even element in the low half, converted with unpack2x16float and
// pack2x16float. x_at gathers one element: the half k % 2 of word k / 2. Outputs are stored in
// pairs starting at an even column, so each pair is exactly one word: plain stores, no atomics and
// no zeroed output needed (with odd N the last word's high half is 0).

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;

fn x_at(k: u32) -> f32 {
    if k < params.k {
        return unpack2x16float(x[k / 2u] >> (16u * (k % 2u))).x;
    }
    return 0.0;
}

fn store_y2(col: u32, first: f32, second: f32) {
    y[col / 2u] = pack2x16float(vec2<f32>(first, second));
}
