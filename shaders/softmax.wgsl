// Softmax and LogSoftmax along one axis of a row-major tensor viewed as [outer, axis_len, inner].
// One workgroup per reduced row (outer × inner rows): its threads stride over the axis, so a long
// axis (the last one, inner = 1) is read coalesced, and an inner axis is read with stride `inner`.
// Three passes over the row: the max (as an integer order key, so NaN wins without float
// comparisons), Σ exp(x - max) through workgroup memory, then the outputs. Numerically stable:
// every exponent is ≤ 0. As numpy computes `exp(x - max) / sum`: a row holding NaN or +inf, or only
// -inf, is all NaN; a -inf element of any other row gives 0 (LogSoftmax: -inf).
// Needs elementwise_float_bits.wgsl before it.

override LOG_SOFTMAX: bool = false;

const WORKGROUP_SIZE: u32 = 128u;
const NEG_INF_KEY: u32 = 0x007fffffu;

struct SoftmaxParams {
    rows: u32,
    axis_len: u32,
    inner: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> params: SoftmaxParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

var<workgroup> partial_keys: array<u32, WORKGROUP_SIZE>;
var<workgroup> partial_sums: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let row = group.y * groups.x + group.x;
    if row >= params.rows {
        return;
    }
    let stride = params.inner;
    let base = (row / stride) * params.axis_len * stride + row % stride;

    var key = NEG_INF_KEY;
    for (var j = local; j < params.axis_len; j += WORKGROUP_SIZE) {
        key = max(key, order_key(input[base + j * stride]));
    }
    partial_keys[local] = key;
    workgroupBarrier();
    for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
        if local < half {
            partial_keys[local] = max(partial_keys[local], partial_keys[local + half]);
        }
        workgroupBarrier();
    }
    let row_max = from_order_key(workgroupUniformLoad(&partial_keys[0]));
    let undefined_row = is_nan_bits(row_max) || is_inf_bits(row_max);

    var sum = 0.0;
    if !undefined_row {
        for (var j = local; j < params.axis_len; j += WORKGROUP_SIZE) {
            let x = input[base + j * stride];
            if !is_inf_bits(x) {
                sum += exp(x - row_max);
            }
        }
    }
    partial_sums[local] = sum;
    workgroupBarrier();
    for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
        if local < half {
            partial_sums[local] += partial_sums[local + half];
        }
        workgroupBarrier();
    }
    let total = partial_sums[0];
    let log_total = log(total);

    for (var j = local; j < params.axis_len; j += WORKGROUP_SIZE) {
        let x = input[base + j * stride];
        var y: f32;
        if undefined_row {
            y = nan_from(row_max);
        } else if is_inf_bits(x) {
            y = select(0.0, inf_with_sign(true), LOG_SOFTMAX);
        } else if LOG_SOFTMAX {
            y = (x - row_max) - log_total;
        } else {
            y = exp(x - row_max) / total;
        }
        output[base + j * stride] = y;
    }
}
