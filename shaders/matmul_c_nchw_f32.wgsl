// C of the conv implicit GEMM stored as the NCHW f32 output: the core's batch is the group, its
// row an output channel within the group and its column an output pixel over all images
// (image · OH·OW + pixel), so consecutive columns are consecutive in memory within an image. The
// bias and activation are applied here, per channel (conv_epilogue.wgsl).

@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn store_c(batch: u32, row: u32, col: u32, value: f32) {
    let channel = batch * conv.out_channels_per_group + row;
    let pixels = conv.out_height * conv.out_width;
    let image = col / pixels;
    y[(image * conv.out_channels + channel) * pixels + col % pixels] = conv_epilogue(value, channel);
}
