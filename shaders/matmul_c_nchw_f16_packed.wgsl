// C of the conv implicit GEMM stored as the NCHW packed-f16 output, two halves per u32 word, the
// even element low; indexing as in matmul_c_nchw_f32.wgsl. The two halves of a word may belong to
// different threads or workgroups, so the launcher zeroes y first and each thread ORs its half in
// atomically: exact in any order (as matmul_c_f16_packed.wgsl does for the matmul).

@group(0) @binding(3) var<storage, read_write> y: array<atomic<u32>>;

fn store_c(batch: u32, row: u32, col: u32, value: f32) {
    let channel = batch * conv.out_channels_per_group + row;
    let pixels = conv.out_height * conv.out_width;
    let image = col / pixels;
    let index = (image * conv.out_channels + channel) * pixels + col % pixels;
    let bits = pack2x16float(vec2<f32>(conv_epilogue(value, channel), 0.0));
    atomicOr(&y[index / 2u], bits << (16u * (index % 2u)));
}
