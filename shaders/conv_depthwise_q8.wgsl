// Depthwise int8 convolution with ONNX QLinearConv semantics, a direct kernel: every group has one
// input channel (groups == C), and output channel m reads input channel m / multiplier
// (multiplier = M / C, 1 for the usual depthwise layer). Exact in i32, requantized by
// conv_q8_requantize.wgsl, so it matches the int8 GEMM kernel (conv_q8.wgsl) and the reference
// bit for bit:
//   sum[m, p] = Σ_{taps inside the image} (x − x_zp) · w[m, tap]
// Taps in the padding are skipped: ONNX pads with the zero point, which adds nothing. Each term is
// at most 255 · 128 in size and the launcher allows at most MAX_TAPS taps, so the sum is exact.
//
// A workgroup of 64 threads computes TILE_PIXELS consecutive outputs of one (image, channel)
// plane (workgroup_id.y = image · M + m), each thread four consecutive pixels of the plane's
// row-major order, which may wrap to the next row. The channel's taps are staged once in
// workgroup memory, sign-extended, so every tap read serves four multiply-adds. Why this shape:
// depthwise layers are memory-bound, the four bytes of a thread are one output word whenever the
// plane holds a multiple of four pixels, and 64 threads fit every device.
//
// Assumes: x int8 NCHW packed four per word, little end first; weights in the Q8Weights layout
// ([M, kH·kW] int8 rows padded to k_words words, zero points 0; the launcher checks). With
// WHOLE_WORDS (OH·OW % 4 == 0) a thread's four pixels fill one output word, written with one
// store; otherwise words straddle planes, so the launcher zeroes y and each byte is ORed in
// atomically. Joined after conv_geometry.wgsl and conv_q8_requantize.wgsl. Bindings: 0 = x words,
// 1 = weight words, 2 = bias (i32), 3 = y words, 4 = params, 5 = geometry, 7 = multipliers.

const TILE_PIXELS: u32 = 256u;
const MAX_TAPS: u32 = 64u;

override WHOLE_WORDS: bool = false;
// uint8 input maps exactly onto int8 by flipping each byte's top bit (v − 128); the launcher
// passes the zero point shifted the same way.
override INPUT_U8: bool = false;

struct Q8DepthwiseParams {
    k_words: u32,
    x_zero_point: i32,
    y_zero_point: i32,
    padding: u32,
}

@group(0) @binding(0) var<storage, read> x_words: array<u32>;
@group(0) @binding(1) var<storage, read> w_words: array<u32>;
@group(0) @binding(3) var<storage, read_write> y_words: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> params: Q8DepthwiseParams;

var<workgroup> kernel_taps: array<i32, MAX_TAPS>;

// Signed byte `index % 4` of `word`.
fn signed_byte(word: u32, index: u32) -> i32 {
    return bitcast<i32>(word << (24u - 8u * (index % 4u))) >> 24u;
}

// x[index] − x_zp.
fn x_shifted(index: u32) -> i32 {
    let word = x_words[index / 4u];
    return signed_byte(select(word, word ^ 0x80808080u, INPUT_U8), index) - params.x_zero_point;
}

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(local_invocation_index) thread: u32,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let plane_index = group.y;
    let channel = plane_index % conv.out_channels;
    let taps = conv.kernel_height * conv.kernel_width;
    if thread < taps {
        let word = w_words[channel * params.k_words + thread / 4u];
        kernel_taps[thread] = signed_byte(word, thread);
    }
    workgroupBarrier();
    let pixels = conv.out_height * conv.out_width;
    let first_pixel = group.x * TILE_PIXELS + thread * 4u;
    if first_pixel >= pixels {
        return;
    }
    let image = plane_index / conv.out_channels;
    let in_channel = channel / conv.out_channels_per_group;
    let x_plane = (image * conv.channels + in_channel) * conv.height * conv.width;
    // Top-left tap of each of the four pixels.
    var rows0: vec4<i32>;
    var cols0: vec4<i32>;
    var oh = first_pixel / conv.out_width;
    var ow = first_pixel % conv.out_width;
    for (var j = 0u; j < 4u; j++) {
        rows0[j] = i32(oh * conv.stride_height) - i32(conv.pad_top);
        cols0[j] = i32(ow * conv.stride_width) - i32(conv.pad_left);
        ow++;
        if ow == conv.out_width {
            ow = 0u;
            oh++;
        }
    }
    var sums = vec4<i32>(0);
    for (var kh = 0u; kh < conv.kernel_height; kh++) {
        let rows = rows0 + vec4<i32>(i32(kh * conv.dilation_height));
        for (var kw = 0u; kw < conv.kernel_width; kw++) {
            let weight = kernel_taps[kh * conv.kernel_width + kw];
            let cols = cols0 + vec4<i32>(i32(kw * conv.dilation_width));
            for (var j = 0u; j < 4u; j++) {
                if conv_inside(rows[j], cols[j]) {
                    let index = x_plane + u32(rows[j]) * conv.width + u32(cols[j]);
                    sums[j] += x_shifted(index) * weight;
                }
            }
        }
    }
    let y_first = plane_index * pixels + first_pixel;
    if WHOLE_WORDS {
        // OH·OW % 4 == 0: the four pixels start a word of their own plane.
        var word = 0u;
        for (var j = 0u; j < 4u; j++) {
            word |= requantize_sum(sums[j], channel, params.y_zero_point) << (8u * j);
        }
        atomicStore(&y_words[y_first / 4u], word);
    } else {
        for (var j = 0u; j < 4u && first_pixel + j < pixels; j++) {
            let index = y_first + j;
            let byte = requantize_sum(sums[j], channel, params.y_zero_point);
            atomicOr(&y_words[index / 4u], byte << (8u * (index % 4u)));
        }
    }
}
