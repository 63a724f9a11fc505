// LocalResponseNormalization across channels: y = x / (bias + scale · Σ x²)^beta, one thread per
// element, scale = alpha / size (rounded once on the host).
//
// x is row-major [N, C, ...]: element `index` is at position `index % inner` of channel
// `(index / inner) % channels`; its window is the channels from `channel − before` to
// `channel + after`, clipped to [0, channels), at the same position. The power runs as
// exp2(−beta · log2 d), which is how WGSL defines pow's accuracy (src/ops/normalization/lrn.rs
// derives the tolerance from it). The flat index spans a 2-D grid when the element count needs
// more workgroups than one dimension allows (src/ops/grid.rs).

const WORKGROUP_SIZE: u32 = 256u;

struct LrnParams {
    count: u32,
    inner: u32,
    channels: u32,
    before: u32,
    after: u32,
    scale: f32,
    beta: f32,
    bias: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: LrnParams;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let index = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if index >= params.count {
        return;
    }
    let position = index % params.inner;
    let channel = (index / params.inner) % params.channels;
    let batch_start = index - position - channel * params.inner;
    let first = select(0u, channel - params.before, channel >= params.before);
    let last = min(channel + params.after, params.channels - 1u);
    var squares = 0.0;
    for (var c = first; c <= last; c += 1u) {
        let value = x[batch_start + c * params.inner + position];
        squares += value * value;
    }
    let divisor = params.bias + params.scale * squares;
    y[index] = x[index] * exp2(-params.beta * log2(divisor));
}
