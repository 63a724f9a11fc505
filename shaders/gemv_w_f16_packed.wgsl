// A dense f16 weight [N, K] for gemv_dense.wgsl, packed two per u32 (the even element in the low
// half) and widened exactly with unpack2x16float: works with or without SHADER_F16. With odd K a
// row starts mid-word, so the four values may span three words; halves past K are masked to 0
// (they belong to the next row).

@group(0) @binding(1) var<storage, read> w: array<u32>;

fn load_w4(col: u32, k: u32) -> vec4<f32> {
    let first = col * params.k + k;
    let valid = min(params.k - k, 4u);
    let word = first / 2u;
    let last_word = (first + valid - 1u) / 2u;
    let low = unpack2x16float(w[word]);
    var middle = vec2<f32>(0.0);
    var high = vec2<f32>(0.0);
    if word + 1u <= last_word {
        middle = unpack2x16float(w[word + 1u]);
    }
    if word + 2u <= last_word {
        high = unpack2x16float(w[word + 2u]);
    }
    var value = vec4<f32>(low, middle);
    if first % 2u == 1u {
        value = vec4<f32>(low.y, middle, high.x);
    }
    return select(value, vec4<f32>(0.0), vec4<u32>(0u, 1u, 2u, 3u) >= vec4<u32>(valid));
}
