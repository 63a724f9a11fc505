// The int8 dot product of two packed words without any language feature, for devices whose WGSL
// lacks dot4I8Packed (and its sibling unpack4xI8): each word is splatted to four lanes, shifted so
// the wanted byte sits in the top 8 bits, and shifted back arithmetically, which sign-extends it.
// The products and their sum (at most 4 · 128² = 2¹⁶) are exact in i32.

const BYTE_TO_TOP = vec4<u32>(24u, 16u, 8u, 0u);

// The four signed bytes of `word`, lowest byte first.
fn unpack_i8x4(word: u32) -> vec4<i32> {
    return (vec4<i32>(bitcast<i32>(word)) << BYTE_TO_TOP) >> vec4<u32>(24u);
}

// Σ_j a_j · b_j over the four signed bytes of each word (byte j = bits 8j .. 8j + 7).
fn dot4_i8(a: u32, b: u32) -> i32 {
    return dot(unpack_i8x4(a), unpack_i8x4(b));
}
