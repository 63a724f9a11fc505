// BSR activations as f16 packed two per u32 word (any device, no SHADER_F16): row-major
// [rows, K], element 2w the low half of word w, so with odd K a row may start mid-word; each
// value is picked by its own flat index and widened exactly. 0 past the matrix, so the zero
// padding of edge blocks (k ≥ K) never reads out of the row.

@group(0) @binding(0) var<storage, read> x: array<u32>;

fn x_at(row: u32, k: u32) -> f32 {
    if row < params.rows && k < params.k {
        let index = row * params.k + k;
        return unpack2x16float(x[index / 2u])[index % 2u];
    }
    return 0.0;
}
