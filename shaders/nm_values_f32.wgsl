// An N:M-sparse weight's kept values as f32 (joined after nm_positions.wgsl): one element per slot,
// row after row. Binding 1 = values.

@group(0) @binding(1) var<storage, read> nm_values: array<f32>;

// Value `index` (row · slots per row + slot).
fn nm_value(index: u32) -> f32 {
    return nm_values[index];
}
