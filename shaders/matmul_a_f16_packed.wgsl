// A as packed f16 for devices without SHADER_F16: u32 words holding two f16 each, the even element
// in the low half (the little-endian bytes of `half::f16` data as uploaded), widened exactly with
// unpack2x16float. Any shape: with odd K a row starts mid-word, so each thread reads the (up to
// three) words covering its four neighbouring k and picks halves by the parity of the first
// element. Reads only `params` and writes only through the core's scatter_a_k4, so it pairs with
// any B loader (the int4-weight kernel reuses it).

@group(0) @binding(0) var<storage, read> a: array<u32>;

// The f16 values at elements first .. first + 3 of `a`, as f32; lanes at or past `valid` (≥ 1) are
// zero, and words holding none of the first `valid` elements are not read.
fn a_f16_packed_k4(first: u32, valid: u32) -> vec4<f32> {
    let word = first / 2u;
    let last_word = (first + min(valid, 4u) - 1u) / 2u;
    let low = unpack2x16float(a[word]);
    var middle = vec2<f32>(0.0);
    var high = vec2<f32>(0.0);
    if word + 1u <= last_word {
        middle = unpack2x16float(a[word + 1u]);
    }
    if word + 2u <= last_word {
        high = unpack2x16float(a[word + 2u]);
    }
    var value = vec4<f32>(low, middle);
    if first % 2u == 1u {
        value = vec4<f32>(low.y, middle, high.x);
    }
    return select(value, vec4<f32>(0.0), vec4<u32>(0u, 1u, 2u, 3u) >= vec4<u32>(valid));
}

fn load_tile_a(batch: u32, row0: u32, k0: u32, thread: u32) {
    let row = thread / 4u;
    let kq = (thread % 4u) * 4u;
    var value = vec4<f32>(0.0);
    if row0 + row < params.m && k0 + kq < params.k {
        let first = batch * params.a_batch_stride + (row0 + row) * params.k + k0 + kq;
        value = a_f16_packed_k4(first, params.k - k0 - kq);
    }
    scatter_a_k4(row, kq, value);
}
