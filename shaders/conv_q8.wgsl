// Int8 convolution with ONNX QLinearConv semantics as an implicit GEMM on packed words, exact in
// i32, requantized to int8. Per group (workgroup_id.z), rows are the group's output channels and
// columns the output pixels of every image (image · OH·OW + pixel), as in the f32 implicit GEMM
// (matmul_b_im2col.wgsl):
//   acc[m, col] = Σ_k (x_k − x_zp) · w[m, k] + bias[m]
//   y = clamp(round_half_even(f32(acc) · multiplier[m]) + y_zp, −128, 127)
// with k = (c·kH + kh)·kW + kw the weight's own order and x_k the input under tap k, x_zp in the
// padding (so padding adds nothing, as ONNX pads with the zero point).
//
// uint8 input or output (INPUT_U8, OUTPUT_U8) is int8 with each byte's top bit flipped.
// Assumes: weights in the Q8Weights layout ([M, K] int8 rows padded to k_words = ceil(K / 4)
// words, zero points all 0; the launcher checks); x int8 NCHW packed four per word, little end
// first. The gathered x word of four k holds 0 past K, so the weights' padding bytes count for
// nothing whatever they hold. Expanding the zero point out of the product leaves a pure dot
// product of words: acc = Σ dot4_i8(w, x) − x_zp · Σ_k w[m, k] (row sums, binding 6), all in
// wrapping i32, exact whenever the true sum fits i32: |x − x_zp| ≤ 255 and |w| ≤ 128, so for
// K ≤ 65793 (the launcher checks K; 65793 · 255 · 128 < 2³¹), and the i32 bias added on top must
// keep it in range (ONNX's accumulator is i32 as well).
//
// The requantization is conv_q8_requantize.wgsl's, joined before this file.
//
// Tiles as in matmul_q8.wgsl: 16×16 threads compute a 64×64 block, each thread 4 channels × 4
// neighbouring pixels with 16 i32 accumulators, K advancing 16 words (64 values) per step through
// 2 × 4 KiB of workgroup memory. Each thread gathers four words (16 consecutive k) of one pixel
// per step: one decode of the first k, then stepping through the taps. Its pixel's position is
// decoded once, on the first step, into private variables.
//
// Output: int8 NCHW, four per u32 word. With WHOLE_WORDS (OH·OW % 4 == 0) a thread's four pixels
// of one channel fill exactly one word, written with one store; otherwise words can straddle
// channels and threads, so the launcher zeroes y and each byte is ORed in atomically: race-free
// either way.
// Joined after dot4_i8_*.wgsl, conv_geometry.wgsl and conv_q8_requantize.wgsl. Bindings: 0 = x
// words, 1 = weight words, 2 = bias (i32), 3 = y words, 4 = params, 5 = geometry, 6 = weight row
// sums, 7 = multipliers.

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_KW: u32 = 16u;

override WHOLE_WORDS: bool = false;
// uint8 input maps exactly onto int8 by flipping each byte's top bit (v − 128); the launcher
// passes the zero point shifted the same way, so the arithmetic is the int8 one throughout.
override INPUT_U8: bool = false;

struct Q8ConvParams {
    // Output channels per group, columns (N·OH·OW), K and weight words per row.
    m: u32,
    n: u32,
    k: u32,
    k_words: u32,
    x_zero_point: i32,
    y_zero_point: i32,
}

@group(0) @binding(0) var<storage, read> x_words: array<u32>;
@group(0) @binding(1) var<storage, read> w_words: array<u32>;
@group(0) @binding(3) var<storage, read_write> y_words: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> params: Q8ConvParams;
@group(0) @binding(6) var<storage, read> w_row_sums: array<i32>;

var<workgroup> tile_w: array<vec4<u32>, 256>;
var<workgroup> tile_x: array<vec4<u32>, 256>;

// The gathering thread's pixel: index of its image's group plane 0 in x, top-left tap position.
var<private> pixel_inside: bool;
var<private> pixel_base: u32;
var<private> pixel_row0: i32;
var<private> pixel_col0: i32;

fn prepare_pixel(group_index: u32, col: u32) {
    let pixels = conv.out_height * conv.out_width;
    let pixel = col % pixels;
    pixel_inside = col < params.n;
    pixel_base = ((col / pixels) * conv.channels + group_index * conv.channels_per_group)
        * conv.height * conv.width;
    pixel_row0 = i32((pixel / conv.out_width) * conv.stride_height) - i32(conv.pad_top);
    pixel_col0 = i32((pixel % conv.out_width) * conv.stride_width) - i32(conv.pad_left);
}

// The x byte under tap (kh, kw) of channel c, x_zp's byte in the padding.
fn x_byte(c: u32, kh: u32, kw: u32) -> u32 {
    let row = pixel_row0 + i32(kh * conv.dilation_height);
    let col = pixel_col0 + i32(kw * conv.dilation_width);
    if !conv_inside(row, col) {
        return bitcast<u32>(params.x_zero_point) & 0xffu;
    }
    let index = pixel_base + (c * conv.height + u32(row)) * conv.width + u32(col);
    let byte = (x_words[index / 4u] >> (8u * (index % 4u))) & 0xffu;
    return select(byte, byte ^ 0x80u, INPUT_U8);
}

// Words first_word .. first_word + 3 of the pixel's gathered im2col column.
fn x_gather_words(first_word: u32) -> vec4<u32> {
    var words = vec4<u32>(0u);
    if !pixel_inside {
        return words;
    }
    let taps = conv.kernel_height * conv.kernel_width;
    var k = first_word * 4u;
    var c = k / taps;
    var kh = (k % taps) / conv.kernel_width;
    var kw = k % conv.kernel_width;
    for (var byte = 0u; byte < 16u && k < params.k; byte++) {
        words[byte / 4u] |= x_byte(c, kh, kw) << (8u * (byte % 4u));
        k++;
        kw++;
        if kw == conv.kernel_width {
            kw = 0u;
            kh++;
            if kh == conv.kernel_height {
                kh = 0u;
                c++;
            }
        }
    }
    return words;
}

fn w_word(group_index: u32, row: u32, word: u32) -> u32 {
    if row < params.m && word < params.k_words {
        return w_words[(group_index * params.m + row) * params.k_words + word];
    }
    return 0u;
}

// One weight word against four x words: a row of a thread's 4×4 block.
fn dot4_i8_row(w: u32, x: vec4<u32>) -> vec4<i32> {
    return vec4<i32>(dot4_i8(w, x.x), dot4_i8(w, x.y), dot4_i8(w, x.z), dot4_i8(w, x.w));
}

// The output byte of accumulator `acc` (zero point not yet taken out) for `channel`.
fn requantize(acc: i32, channel: u32) -> u32 {
    let sum = acc - params.x_zero_point * w_row_sums[channel];
    return requantize_sum(sum, channel, params.y_zero_point);
}

@compute @workgroup_size(16, 16, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let group_index = group.z;
    let row0 = group.y * TILE_M;
    let col0 = group.x * TILE_N;
    let thread = local.y * 16u + local.x;
    let load_slot = thread / 4u;
    let load_word = (thread % 4u) * 4u;
    prepare_pixel(group_index, col0 + load_slot);
    var acc = array<vec4<i32>, 4>(vec4<i32>(0), vec4<i32>(0), vec4<i32>(0), vec4<i32>(0));
    for (var word0 = 0u; word0 < params.k_words; word0 += TILE_KW) {
        let x_words4 = x_gather_words(word0 + load_word);
        for (var j = 0u; j < 4u; j++) {
            let tile_index = (load_word + j) * 16u + load_slot / 4u;
            tile_w[tile_index][load_slot % 4u] =
                w_word(group_index, row0 + load_slot, word0 + load_word + j);
            tile_x[tile_index][load_slot % 4u] = x_words4[j];
        }
        workgroupBarrier();
        for (var word = 0u; word < TILE_KW; word++) {
            let w = tile_w[word * 16u + local.y];
            let x = tile_x[word * 16u + local.x];
            acc[0] += dot4_i8_row(w.x, x);
            acc[1] += dot4_i8_row(w.y, x);
            acc[2] += dot4_i8_row(w.z, x);
            acc[3] += dot4_i8_row(w.w, x);
        }
        workgroupBarrier();
    }
    let pixels = conv.out_height * conv.out_width;
    let first_col = col0 + local.x * 4u;
    for (var i = 0u; i < 4u; i++) {
        let row = row0 + local.y * 4u + i;
        if row >= params.m || first_col >= params.n {
            continue;
        }
        let channel = group_index * params.m + row;
        if WHOLE_WORDS {
            // OH·OW % 4 == 0: the four pixels share an image and start a word.
            var word = 0u;
            for (var j = 0u; j < 4u; j++) {
                word |= requantize(acc[i][j], channel) << (8u * j);
            }
            let index = ((first_col / pixels) * conv.out_channels + channel) * pixels
                + first_col % pixels;
            atomicStore(&y_words[index / 4u], word);
        } else {
            for (var j = 0u; j < 4u && first_col + j < params.n; j++) {
                let col = first_col + j;
                let index = ((col / pixels) * conv.out_channels + channel) * pixels + col % pixels;
                atomicOr(&y_words[index / 4u], requantize(acc[i][j], channel) << (8u * (index % 4u)));
            }
        }
    }
}
