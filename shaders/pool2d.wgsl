// 2-D MaxPool / AveragePool core over NCHW planes: one output element per call of pool_value,
// computed from its window exactly as src/ops/pooling/reference.rs does. Joined after an operand
// file (pool2d_io_f32.wgsl, pool2d_io_f16_packed.wgsl) that supplies load_input and the entry
// point. Taps outside the input are skipped; with COUNT_INCLUDE_PAD the average still counts the
// taps inside the padded input [-pad_begin, size + pad_end). Max propagates NaN through an explicit
// flag: WGSL's max() with a NaN operand is implementation-defined (llvmpipe's GL path differs).

override IS_MAX: bool = true;
override COUNT_INCLUDE_PAD: bool = false;

struct PoolParams {
    planes: u32,
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    pad_bottom: u32,
    pad_right: u32,
    dilation_h: u32,
    dilation_w: u32,
    count: u32,
}

@group(0) @binding(2) var<uniform> params: PoolParams;

const WORKGROUP_SIZE: u32 = 256u;

// A float from its bits; a function argument, not a const-expression, so NaN and infinity are
// allowed.
fn f32_from_bits(bits: u32) -> f32 {
    return bitcast<f32>(bits);
}

fn is_nan_f32(value: f32) -> bool {
    return (bitcast<u32>(value) & 0x7fffffffu) > 0x7f800000u;
}

// The pooled value of output element `index` (flat NCHW index into the output).
fn pool_value(index: u32) -> f32 {
    let ox = index % params.out_w;
    let oy = (index / params.out_w) % params.out_h;
    let plane = index / (params.out_w * params.out_h);
    let plane_base = plane * params.in_h * params.in_w;
    let start_y = i32(oy * params.stride_h) - i32(params.pad_top);
    let start_x = i32(ox * params.stride_w) - i32(params.pad_left);
    let padded_end_y = i32(params.in_h + params.pad_bottom);
    let padded_end_x = i32(params.in_w + params.pad_right);
    var maximum = f32_from_bits(0xff800000u);
    var has_nan = false;
    var sum = 0.0;
    var real = 0u;
    var in_padded = 0u;
    for (var ky = 0u; ky < params.kernel_h; ky++) {
        let y = start_y + i32(ky * params.dilation_h);
        let y_inside = y >= 0 && y < i32(params.in_h);
        for (var kx = 0u; kx < params.kernel_w; kx++) {
            let x = start_x + i32(kx * params.dilation_w);
            if y < padded_end_y && x < padded_end_x {
                in_padded += 1u;
            }
            if !y_inside || x < 0 || x >= i32(params.in_w) {
                continue;
            }
            let value = load_input(plane_base + u32(y) * params.in_w + u32(x));
            real += 1u;
            if IS_MAX {
                has_nan = has_nan || is_nan_f32(value);
                maximum = select(maximum, value, value > maximum);
            } else {
                sum += value;
            }
        }
    }
    if IS_MAX {
        return select(maximum, f32_from_bits(0x7fc00000u), has_nan);
    }
    let count = select(real, in_padded, COUNT_INCLUDE_PAD);
    return select(sum / f32(max(count, 1u)), 0.0, count == 0u);
}
