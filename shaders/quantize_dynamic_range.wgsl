// DynamicQuantizeLinear, step 1 of 2 (ONNX opset 11): the uint8 scale and zero point of x,
//   x_max = max(0, max(x)), x_min = min(0, min(x)),
//   y_scale = (x_max == x_min ? 1 : x_max − x_min) / 255,
//   y_zero_point = round_half_even(clamp(0 − x_min / y_scale, 0, 255)),
// with div_rn (div_rn.wgsl, joined before this file) for the divisions, so both equal the CPU
// reference's bits. NaN elements are left out of the range (the reference's f32::max/min do the
// same); the inputs are assumed finite otherwise.
//
// One workgroup of 256 threads: each folds a strided share of x, then a tree over workgroup
// memory. Why one workgroup: the result is two numbers that step 2 reads, and a second pass over
// per-workgroup partials would cost a dispatch on the small activations a dynamically quantized
// matmul takes (a million elements is 4096 loads per thread).

const WORKGROUP_SIZE: u32 = 256u;

struct RangeParams {
    count: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y_scale: array<f32>;
// The zero point as a uint8 tensor of one element: the low byte of one word.
@group(0) @binding(2) var<storage, read_write> y_zero_point: array<u32>;
@group(0) @binding(3) var<uniform> params: RangeParams;

var<workgroup> lows: array<f32, 256>;
var<workgroup> highs: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) local: vec3<u32>) {
    var low = 0.0;
    var high = 0.0;
    for (var index = local.x; index < params.count; index += WORKGROUP_SIZE) {
        let value = x[index];
        if (bitcast<u32>(value) & 0x7fffffffu) <= 0x7f800000u {
            low = min(low, value);
            high = max(high, value);
        }
    }
    lows[local.x] = low;
    highs[local.x] = high;
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
        workgroupBarrier();
        if local.x < stride {
            lows[local.x] = min(lows[local.x], lows[local.x + stride]);
            highs[local.x] = max(highs[local.x], highs[local.x + stride]);
        }
    }
    if local.x == 0u {
        let x_min = lows[0];
        let x_max = highs[0];
        let range = select(x_max - x_min, 1.0, x_max == x_min);
        let scale = div_rn(range, 255.0);
        let zero_point = round(clamp(0.0 - div_rn(x_min, scale), 0.0, 255.0));
        y_scale[0] = scale;
        y_zero_point[0] = u32(zero_point);
    }
}
