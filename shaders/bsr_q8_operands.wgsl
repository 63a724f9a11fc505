// Int8 operands of the BSR pass-1 kernels (bsr_gemm_q8.wgsl, bsr_gemv_q8.wgsl), read as u32
// words. Assumes Q8Activations' layout (src/tensor/q8.rs): rows of k_words = ceil(K / 4) words,
// byte j of word w holding k = 4w + j; and BsrValues::I8 (src/tensor/bsr.rs): block b's R·C
// bytes at byte b·R·C, byte j of a word holding element 4w + j. Padding bytes of both are 0 by
// contract, and even if an activation row's padding bytes were not, they only ever meet zero
// weights (the zero padding of edge blocks), so no masking is needed inside a word; whole words
// past the row (edge blocks wider than the padded row) read as 0.

@group(0) @binding(0) var<storage, read> x_words: array<u32>;
@group(0) @binding(1) var<storage, read> w_words: array<u32>;

// Byte `byte` (0 .. 3) of `word`, sign-extended: shifted to the top, then arithmetically back.
fn i8_byte(word: u32, byte: u32) -> i32 {
    return (bitcast<i32>(word) << (24u - 8u * byte)) >> 24u;
}

// The four signed bytes of `word`, lowest first.
fn i8_lanes(word: u32) -> vec4<i32> {
    return vec4<i32>(i8_byte(word, 0u), i8_byte(word, 1u), i8_byte(word, 2u), i8_byte(word, 3u));
}

// Word `word` of activation row `row`; 0 past the row or the matrix.
fn x_word(row: u32, word: u32) -> u32 {
    if row < params.rows && word < params.k_words {
        return x_words[row * params.k_words + word];
    }
    return 0u;
}

// The raw bits of x[row, k] (k < K) in the low byte.
fn x_byte_bits(row: u32, k: u32) -> u32 {
    return (x_word(row, k / 4u) >> (8u * (k % 4u))) & 0xFFu;
}

// The raw bits of stored value `element` in the low byte.
fn w_byte_bits(element: u32) -> u32 {
    return (w_words[element / 4u] >> (8u * (element % 4u))) & 0xFFu;
}
