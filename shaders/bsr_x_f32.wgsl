// BSR activations as f32: row-major [rows, K] (every batch flattened into rows). x_at is 0 past
// the matrix, so the zero padding of edge blocks (k ≥ K) never reads out of the row.

@group(0) @binding(0) var<storage, read> x: array<f32>;

fn x_at(row: u32, k: u32) -> f32 {
    if row < params.rows && k < params.k {
        return x[row * params.k + k];
    }
    return 0.0;
}
