// An N:M-sparse weight's pattern and packed positions as the kernels read them (layout contract in
// src/tensor/nm_sparse.rs), shared by the tiled B loader (matmul_b_nm.wgsl) and the GEMV
// (gemv_nm.wgsl). The values are read through nm_values_f32.wgsl or nm_values_f16.wgsl.
//
// Assumes: the launcher sets the four pattern constants from the matrix's NmPattern (kept 1, 2 or
// 4; group 4 or 8; bits = log2(group); fields per word = floor(32 / bits)). Slot `s` of a row is
// its s-th kept value, group by group (group s / NM_KEPT); its position field is bits
// (s % NM_FIELDS_PER_WORD) · NM_INDEX_BITS.. of the row's word s / NM_FIELDS_PER_WORD. No field
// straddles a word, so one word read gives one field.
// Binding 5 = positions, each row starting on a new word.

override NM_KEPT: u32 = 2u;
override NM_GROUP: u32 = 4u;
override NM_INDEX_BITS: u32 = 2u;
override NM_FIELDS_PER_WORD: u32 = 16u;

@group(0) @binding(5) var<storage, read> nm_positions: array<u32>;

// The position (0 .. NM_GROUP − 1) within its group of slot `slot` of the row whose first position
// word is `row_word`.
fn nm_position(row_word: u32, slot: u32) -> u32 {
    let word = nm_positions[row_word + slot / NM_FIELDS_PER_WORD];
    let shift = (slot % NM_FIELDS_PER_WORD) * NM_INDEX_BITS;
    return (word >> shift) & ((1u << NM_INDEX_BITS) - 1u);
}
