// The geometry block every convolution kernel reads (binding 5): NCHW input [batch, channels,
// height, width], output [batch, out_channels, out_height, out_width], weights split into `groups`
// independent convolutions of channels_per_group inputs and out_channels_per_group outputs each.
// Filled by `ConvUniform::new` in src/ops/conv/uniform.rs, which checks that every element index
// fits an i32. For a transposed convolution height/width are still the input's and the output
// sizes the (larger) output's; the stride, pads and dilation keep their ONNX meaning.

struct ConvGeometry {
    batch: u32,
    channels: u32,
    height: u32,
    width: u32,
    out_channels: u32,
    out_height: u32,
    out_width: u32,
    groups: u32,
    channels_per_group: u32,
    out_channels_per_group: u32,
    kernel_height: u32,
    kernel_width: u32,
    stride_height: u32,
    stride_width: u32,
    pad_top: u32,
    pad_left: u32,
    dilation_height: u32,
    dilation_width: u32,
    padding0: u32,
    padding1: u32,
}

@group(0) @binding(5) var<uniform> conv: ConvGeometry;

// Whether (row, col) lies inside the input image; negative coordinates are outside.
fn conv_inside(row: i32, col: i32) -> bool {
    return row >= 0 && col >= 0 && u32(row) < conv.height && u32(col) < conv.width;
}
