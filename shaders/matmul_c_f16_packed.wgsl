// C as packed f16, row-major: u32 words holding two f16 each, the even element in the low half.
// The two halves of a word can belong to different threads or workgroups (odd N or odd batch
// strides shift the pairing, and a tile's last column shares a word with the next tile's first), so
// a plain read-modify-write would race. Instead the launcher zeroes C first and each thread ORs its
// half's bits into the word atomically; the halves never overlap, so the result is exact in any
// order. As with native f16, WGSL leaves values beyond f16's finite range (±65504) indeterminate.

@group(0) @binding(3) var<storage, read_write> c: array<atomic<u32>>;

fn store_c(batch: u32, row: u32, col: u32, value: f32) {
    let index = batch * params.c_batch_stride + row * params.n + col;
    let bits = pack2x16float(vec2<f32>(value, 0.0));
    atomicOr(&c[index / 2u], bits << (16u * (index % 2u)));
}
