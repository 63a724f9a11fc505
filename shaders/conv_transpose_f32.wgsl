// Transposed convolution (ONNX ConvTranspose) in f32 as a gather: output (oh, ow) of channel m sums
// x[c, ih, iw] · w[c, m, kh, kw] over the taps with oh + top = ih·stride + kh·dilation (and the
// same for the width), so every output is written by exactly one thread and nothing races. Joined
// after activation.wgsl, conv_geometry.wgsl and conv_epilogue.wgsl (bias and activation fused).
// Bindings: 0 = x [N, C, H, W], 1 = weights [C, M/groups, kH, kW], 2 = bias, 3 = y, 5 = geometry.
//
// A workgroup of 64 threads covers 64 output pixels of one (image, group) (workgroup_id.z =
// image · groups + group) and four output channels of that group (workgroup_id.y). Each thread
// computes one pixel for those four channels, so every x it reads serves four multiply-adds.
// Taps that miss the stride grid are skipped by a divisibility test before any load.

const CHANNELS_PER_THREAD: u32 = 4u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

// The input index that tap `tap` of output `out` reads along one axis, or −1 when the tap falls
// between stride steps or outside the input.
fn transpose_source(out: u32, pad: u32, tap: u32, dilation: u32, stride: u32, size: u32) -> i32 {
    let offset = i32(out + pad) - i32(tap * dilation);
    if offset < 0 || u32(offset) % stride != 0u || u32(offset) / stride >= size {
        return -1;
    }
    return i32(u32(offset) / stride);
}

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let pixels = conv.out_height * conv.out_width;
    let pixel = group.x * 64u + local.x;
    if pixel >= pixels {
        return;
    }
    let image = group.z / conv.groups;
    let group_index = group.z % conv.groups;
    let m0 = group.y * CHANNELS_PER_THREAD;
    let oh = pixel / conv.out_width;
    let ow = pixel % conv.out_width;
    let taps = conv.kernel_height * conv.kernel_width;
    var acc = vec4<f32>(0.0);
    for (var kh = 0u; kh < conv.kernel_height; kh++) {
        let ih = transpose_source(oh, conv.pad_top, kh, conv.dilation_height, conv.stride_height,
            conv.height);
        if ih < 0 {
            continue;
        }
        for (var kw = 0u; kw < conv.kernel_width; kw++) {
            let iw = transpose_source(ow, conv.pad_left, kw, conv.dilation_width,
                conv.stride_width, conv.width);
            if iw < 0 {
                continue;
            }
            for (var c = 0u; c < conv.channels_per_group; c++) {
                let channel = group_index * conv.channels_per_group + c;
                let x_value = x[((image * conv.channels + channel) * conv.height + u32(ih))
                    * conv.width + u32(iw)];
                let w_base = (channel * conv.out_channels_per_group + m0) * taps
                    + kh * conv.kernel_width + kw;
                for (var j = 0u; j < CHANNELS_PER_THREAD; j++) {
                    if m0 + j < conv.out_channels_per_group {
                        acc[j] = fma(x_value, weights[w_base + j * taps], acc[j]);
                    }
                }
            }
        }
    }
    for (var j = 0u; j < CHANNELS_PER_THREAD; j++) {
        if m0 + j < conv.out_channels_per_group {
            let channel = group_index * conv.out_channels_per_group + m0 + j;
            y[(image * conv.out_channels + channel) * pixels + pixel] = conv_epilogue(acc[j], channel);
        }
    }
}
