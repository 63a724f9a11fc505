// Depthwise convolution in f32 (groups == C == M: each output channel reads only its own input
// channel), a direct kernel: joined after activation.wgsl, conv_geometry.wgsl and
// conv_epilogue.wgsl. Bindings: 0 = x, 1 = weights [C, 1, kH, kW], 2 = bias, 3 = y, 5 = geometry.
//
// A workgroup of 16×4 threads computes a 64-wide, 4-high tile of one (image, channel) plane
// (workgroup_id.z = image · C + channel). Each thread computes four neighbouring outputs of a
// row, so every weight it reads serves four multiply-adds, and the 16 threads of a row read one
// contiguous span of x. The channel's kH·kW weights are staged once in workgroup memory; the
// launcher sends kernels with more than MAX_TAPS taps to the implicit GEMM instead. Why these
// sizes: 64 threads and 256 bytes of workgroup memory fit every device's limits, and depthwise
// layers are memory-bound, so more outputs per thread buy little.

const TILE_WIDTH: u32 = 64u;
const TILE_HEIGHT: u32 = 4u;
const MAX_TAPS: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

var<workgroup> kernel_taps: array<f32, MAX_TAPS>;

@compute @workgroup_size(16, 4, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let plane_index = group.z;
    let channel = plane_index % conv.channels;
    let taps = conv.kernel_height * conv.kernel_width;
    let thread = local.y * 16u + local.x;
    if thread < taps {
        kernel_taps[thread] = weights[channel * taps + thread];
    }
    workgroupBarrier();
    let oh = group.y * TILE_HEIGHT + local.y;
    let ow0 = group.x * TILE_WIDTH + local.x * 4u;
    if oh >= conv.out_height || ow0 >= conv.out_width {
        return;
    }
    let x_plane = plane_index * conv.height * conv.width;
    let row0 = i32(oh * conv.stride_height) - i32(conv.pad_top);
    let col0 = i32(ow0 * conv.stride_width) - i32(conv.pad_left);
    let col_step = i32(conv.stride_width);
    var acc = vec4<f32>(0.0);
    for (var kh = 0u; kh < conv.kernel_height; kh++) {
        let row = row0 + i32(kh * conv.dilation_height);
        if row < 0 || u32(row) >= conv.height {
            continue;
        }
        let x_row = x_plane + u32(row) * conv.width;
        for (var kw = 0u; kw < conv.kernel_width; kw++) {
            let weight = kernel_taps[kh * conv.kernel_width + kw];
            let first_col = col0 + i32(kw * conv.dilation_width);
            for (var j = 0u; j < 4u; j++) {
                let col = first_col + i32(j) * col_step;
                if col >= 0 && u32(col) < conv.width {
                    acc[j] = fma(weight, x[x_row + u32(col)], acc[j]);
                }
            }
        }
    }
    let y_row = (plane_index * conv.out_height + oh) * conv.out_width;
    for (var j = 0u; j < 4u; j++) {
        if ow0 + j < conv.out_width {
            y[y_row + ow0 + j] = conv_epilogue(acc[j], channel);
        }
    }
}
