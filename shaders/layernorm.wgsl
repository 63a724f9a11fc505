// LayerNormalization: each row of `row_len` contiguous elements is normalized to zero mean and unit
// variance, then scaled and shifted per position in the row: y = (x − mean) / √(var + ε) · scale + bias.
//
// Assumes: one workgroup of 256 threads per row (rows spill into the grid's y dimension, as in
// src/ops/grid.rs). Two passes over the row for numerical stability: the mean first, then the mean
// of squared deviations from it (never E[x²] − E[x]², which cancels catastrophically). Each thread
// sums a strided slice of the row in f32, then a tree reduction in workgroup memory combines the
// 256 partial sums.

const WORKGROUP_SIZE: u32 = 256u;

override HAS_BIAS: bool = false;

struct LayerNormParams {
    rows: u32,
    row_len: u32,
    // 1 / row_len, rounded once on the host.
    inv_row_len: f32,
    epsilon: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: LayerNormParams;

var<workgroup> partial: array<f32, 256>;

// The sum of every thread's `value`, returned to all threads.
fn workgroup_sum(thread: u32, value: f32) -> f32 {
    partial[thread] = value;
    workgroupBarrier();
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
        if thread < stride {
            partial[thread] += partial[thread + stride];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let row = group.y * groups.x + group.x;
    // Uniform across the workgroup, so the barriers below stay in uniform control flow.
    if row >= params.rows {
        return;
    }
    let thread = local.x;
    let base = row * params.row_len;
    var sum = 0.0;
    for (var i = thread; i < params.row_len; i += WORKGROUP_SIZE) {
        sum += x[base + i];
    }
    let mean = workgroup_sum(thread, sum) * params.inv_row_len;
    var squares = 0.0;
    for (var i = thread; i < params.row_len; i += WORKGROUP_SIZE) {
        let deviation = x[base + i] - mean;
        squares += deviation * deviation;
    }
    let variance = workgroup_sum(thread, squares) * params.inv_row_len;
    let inv_std = inverseSqrt(variance + params.epsilon);
    for (var i = thread; i < params.row_len; i += WORKGROUP_SIZE) {
        var value = (x[base + i] - mean) * inv_std * scale[i];
        if HAS_BIAS {
            value += bias[i];
        }
        y[base + i] = value;
    }
}
