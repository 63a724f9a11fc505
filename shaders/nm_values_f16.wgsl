// An N:M-sparse weight's kept values as f16 (joined after nm_positions.wgsl), read as u32 words
// holding two each, element 2w in the low half of word w, whether or not the device has
// SHADER_F16. A row with an odd number of slots starts mid-word, which element indexing handles.
// Widened with unpack2x16float, exact for normal values; like the dense packed-f16 loaders this
// assumes the device keeps f16 subnormals (|w| < 2⁻¹⁴) rather than flushing them to zero.
// Binding 1 = values.

@group(0) @binding(1) var<storage, read> nm_values: array<u32>;

// Value `index` (row · slots per row + slot), widened to f32.
fn nm_value(index: u32) -> f32 {
    return unpack2x16float(nm_values[index / 2u] >> (16u * (index % 2u))).x;
}
