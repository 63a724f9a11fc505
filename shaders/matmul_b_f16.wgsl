// B as native f16 (the program starts with enable_f16.wgsl), one element per load: any shape, no
// alignment assumed, [K, N] or transposed [N, K]. Values are widened to f32 exactly.

override B_TRANSPOSED: bool = false;

@group(0) @binding(1) var<storage, read> b: array<f16>;

fn b_f16_at(batch: u32, k: u32, col: u32) -> f32 {
    if k < params.k && col < params.n {
        let base = batch * params.b_batch_stride;
        if B_TRANSPOSED {
            return f32(b[base + col * params.k + k]);
        }
        return f32(b[base + k * params.n + col]);
    }
    return 0.0;
}

fn load_tile_b(batch: u32, col0: u32, k0: u32, thread: u32) {
    if B_TRANSPOSED {
        let col = thread / 4u;
        let kq = (thread % 4u) * 4u;
        let base = k0 + kq;
        scatter_b_k4(col, kq, vec4<f32>(
            b_f16_at(batch, base, col0 + col),
            b_f16_at(batch, base + 1u, col0 + col),
            b_f16_at(batch, base + 2u, col0 + col),
            b_f16_at(batch, base + 3u, col0 + col),
        ));
    } else {
        let k = thread / 16u;
        let cq = (thread % 16u) * 4u;
        tile_b[k * 16u + cq / 4u] = vec4<f32>(
            b_f16_at(batch, k0 + k, col0 + cq),
            b_f16_at(batch, k0 + k, col0 + cq + 1u),
            b_f16_at(batch, k0 + k, col0 + cq + 2u),
            b_f16_at(batch, k0 + k, col0 + cq + 3u),
        );
    }
}
