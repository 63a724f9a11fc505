// B as packed f16 for devices without SHADER_F16: u32 words holding two f16 each, the even element
// in the low half, widened exactly with unpack2x16float. Any shape, [K, N] or transposed [N, K]:
// either way a thread reads four elements that are neighbours in memory (four k of one column
// when transposed, four columns of one k otherwise), which may start mid-word when the row length
// is odd, so it reads the (up to three) words covering them and picks halves by parity.

override B_TRANSPOSED: bool = false;

@group(0) @binding(1) var<storage, read> b: array<u32>;

// The f16 values at elements first .. first + 3 of `b`, as f32; lanes at or past `valid` (≥ 1) are
// zero, and words holding none of the first `valid` elements are not read.
fn b_f16_packed_k4(first: u32, valid: u32) -> vec4<f32> {
    let word = first / 2u;
    let last_word = (first + min(valid, 4u) - 1u) / 2u;
    let low = unpack2x16float(b[word]);
    var middle = vec2<f32>(0.0);
    var high = vec2<f32>(0.0);
    if word + 1u <= last_word {
        middle = unpack2x16float(b[word + 1u]);
    }
    if word + 2u <= last_word {
        high = unpack2x16float(b[word + 2u]);
    }
    var value = vec4<f32>(low, middle);
    if first % 2u == 1u {
        value = vec4<f32>(low.y, middle, high.x);
    }
    return select(value, vec4<f32>(0.0), vec4<u32>(0u, 1u, 2u, 3u) >= vec4<u32>(valid));
}

fn load_tile_b(batch: u32, col0: u32, k0: u32, thread: u32) {
    let base = batch * params.b_batch_stride;
    if B_TRANSPOSED {
        // [N, K]: like A, four consecutive k of one column.
        let col = thread / 4u;
        let kq = (thread % 4u) * 4u;
        var value = vec4<f32>(0.0);
        if col0 + col < params.n && k0 + kq < params.k {
            value = b_f16_packed_k4(base + (col0 + col) * params.k + k0 + kq, params.k - k0 - kq);
        }
        scatter_b_k4(col, kq, value);
    } else {
        // [K, N]: thread t loads k = t / 16, columns 4·(t % 16) .. +3, straight into the tile.
        let k = thread / 16u;
        let cq = (thread % 16u) * 4u;
        var value = vec4<f32>(0.0);
        if k0 + k < params.k && col0 + cq < params.n {
            value = b_f16_packed_k4(base + (k0 + k) * params.n + col0 + cq, params.n - col0 - cq);
        }
        tile_b[k * 16u + cq / 4u] = value;
    }
}
