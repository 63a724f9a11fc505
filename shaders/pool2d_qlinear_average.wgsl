// QLinearAveragePool over NCHW int8 or uint8 (SIGNED) packed four per u32 word, low byte first,
// exactly as src/ops/pooling/qlinear.rs specifies: per window the exact i32 sum of (q − x_zp) over
// the taps on real elements, then y = clamp(round_half_even(f32(sum) · multipliers[count]) + y_zp)
// in f32. The host computes multipliers[count] = x_scale / (y_scale · count) for every count a
// window can have, so the kernel divides nothing (WGSL's f32 division is not correctly rounded,
// its product is). f32(sum) is exact: the launcher caps the window at 65 793 taps (255 · taps <
// 2²⁴). COUNT_INCLUDE_PAD counts the taps inside the padded input [-pad_begin, size + pad_end).
// Each thread computes the four outputs of one output word, so no two threads write one word.

override SIGNED: bool = true;
override COUNT_INCLUDE_PAD: bool = false;

struct QPoolParams {
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
    input_zero_point: i32,
    output_zero_point: i32,
}

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read> multipliers: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;
@group(0) @binding(3) var<uniform> params: QPoolParams;

const WORKGROUP_SIZE: u32 = 256u;

fn load_input(index: u32) -> i32 {
    let byte = (input[index / 4u] >> (8u * (index % 4u))) & 0xffu;
    if SIGNED {
        return (i32(byte) << 24u) >> 24u;
    }
    return i32(byte);
}

// The requantized byte of `sum` over a window of `count` taps.
fn requantize(sum: i32, count: u32) -> u32 {
    let scaled = round(f32(sum) * multipliers[count]) + f32(params.output_zero_point);
    if SIGNED {
        return bitcast<u32>(i32(clamp(scaled, -128.0, 127.0))) & 0xffu;
    }
    return u32(clamp(scaled, 0.0, 255.0));
}

// The output byte of element `index` (flat NCHW index into the output).
fn output_byte(index: u32) -> u32 {
    let ox = index % params.out_w;
    let oy = (index / params.out_w) % params.out_h;
    let plane = index / (params.out_w * params.out_h);
    let plane_base = plane * params.in_h * params.in_w;
    let start_y = i32(oy * params.stride_h) - i32(params.pad_top);
    let start_x = i32(ox * params.stride_w) - i32(params.pad_left);
    let padded_end_y = i32(params.in_h + params.pad_bottom);
    let padded_end_x = i32(params.in_w + params.pad_right);
    var sum = 0;
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
            sum += load_input(plane_base + u32(y) * params.in_w + u32(x)) - params.input_zero_point;
            real += 1u;
        }
    }
    return requantize(sum, select(real, in_padded, COUNT_INCLUDE_PAD));
}
