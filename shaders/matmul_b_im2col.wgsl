// The gather half of the conv implicit GEMM's B loaders (matmul_b_im2col_*.wgsl join this file):
// B is the im2col matrix [K, N·OH·OW] of one group, never stored. Column `col` is output pixel
// col % (OH·OW) of image col / (OH·OW); row k = (c·kH + kh)·kW + kw is input channel
// group·C/groups + c at the tap (kh, kw), so B[k, col] = x[n, channel, oh·s − top + kh·d,
// ow·s − left + kw·d], zero in the padding and outside the matrix. K runs in the weight's own
// order, so the weight [M, C/groups, kH, kW] is the A operand as it is, [M/groups, K] per group.
//
// Assumes the core's B tile layout for an untransposed B: thread t loads k = t / 16 and the four
// columns col0 + 4·(t % 16) .. + 3, which stay the same on every K step of the workgroup. So the
// divisions that locate those columns run once, on the first step (k0 == 0, where the core's K
// loop starts), into private variables; each later step costs one decode of k and four bounds
// checks. With POINTWISE (1×1 kernel, stride 1, no pads) k is the channel and no tap can fall in
// the padding, so the gather reduces to direct reads of x viewed as [C, H·W] per image.

override POINTWISE: bool = false;

// Per column: the index of (image, first channel of the group, row 0, col 0) in x, and the input
// row and column of the kernel's top-left tap (possibly negative, in the padding).
var<private> column_base: vec4<u32>;
var<private> column_row0: vec4<i32>;
var<private> column_col0: vec4<i32>;
var<private> column_inside: vec4<bool>;

fn im2col_prepare(group_index: u32, first_col: u32) {
    let pixels = conv.out_height * conv.out_width;
    let plane = conv.height * conv.width;
    for (var j = 0u; j < 4u; j++) {
        let col = first_col + j;
        let image = col / pixels;
        let pixel = col % pixels;
        let oh = pixel / conv.out_width;
        let ow = pixel % conv.out_width;
        column_inside[j] = col < params.n;
        column_base[j] = (image * conv.channels + group_index * conv.channels_per_group) * plane;
        column_row0[j] = i32(oh * conv.stride_height) - i32(conv.pad_top);
        column_col0[j] = i32(ow * conv.stride_width) - i32(conv.pad_left);
    }
}

// The x indices of B[k, first_col .. first_col + 3] (set by im2col_prepare), −1 where B is zero.
fn im2col_indices(k: u32) -> vec4<i32> {
    var indices = vec4<i32>(-1);
    if k >= params.k {
        return indices;
    }
    let plane = conv.height * conv.width;
    if POINTWISE {
        for (var j = 0u; j < 4u; j++) {
            if column_inside[j] {
                let offset = u32(column_row0[j]) * conv.width + u32(column_col0[j]);
                indices[j] = i32(column_base[j] + k * plane + offset);
            }
        }
        return indices;
    }
    let taps = conv.kernel_height * conv.kernel_width;
    let c = k / taps;
    let tap = k % taps;
    let row_offset = i32((tap / conv.kernel_width) * conv.dilation_height);
    let col_offset = i32((tap % conv.kernel_width) * conv.dilation_width);
    for (var j = 0u; j < 4u; j++) {
        let row = column_row0[j] + row_offset;
        let col = column_col0[j] + col_offset;
        if column_inside[j] && conv_inside(row, col) {
            indices[j] = i32(column_base[j] + c * plane + u32(row) * conv.width + u32(col));
        }
    }
    return indices;
}

fn load_tile_b(batch: u32, col0: u32, k0: u32, thread: u32) {
    let k = thread / 16u;
    let cq = (thread % 16u) * 4u;
    if k0 == 0u {
        im2col_prepare(batch, col0 + cq);
    }
    tile_b[k * 16u + cq / 4u] = load_x4(im2col_indices(k0 + k));
}
