// C of the conv implicit GEMM stored as the NCHW native-f16 output (the program starts with
// enable_f16.wgsl); indexing as in matmul_c_nchw_f32.wgsl. Each f16 is its own memory location,
// so no two threads race. Values beyond f16's range (±65504) convert to an unspecified value.

@group(0) @binding(3) var<storage, read_write> y: array<f16>;

fn store_c(batch: u32, row: u32, col: u32, value: f32) {
    let channel = batch * conv.out_channels_per_group + row;
    let pixels = conv.out_height * conv.out_width;
    let image = col / pixels;
    y[(image * conv.out_channels + channel) * pixels + col % pixels] =
        f16(conv_epilogue(value, channel));
}
