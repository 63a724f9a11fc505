// BatchNormalization (inference): y = x · multiplier[c] + offset[c], one thread per element.
//
// The host folds scale, B, mean, var and epsilon into one (multiplier, offset) pair per channel,
// computed in f64 and rounded once (see src/ops/normalization/batchnorm.rs), so the kernel does a
// single multiply-add per element. x is row-major with channels on axis 1: element `index` belongs
// to channel (index / inner) % channels, where `inner` is the product of the dims after axis 1.
// The flat index spans a 2-D grid when the element count needs more workgroups than one dimension
// allows (src/ops/grid.rs).

const WORKGROUP_SIZE: u32 = 256u;

struct BatchNormParams {
    count: u32,
    inner: u32,
    channels: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
// multiplier and offset of channel c as affine[c].x and affine[c].y.
@group(0) @binding(1) var<storage, read> affine: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: BatchNormParams;

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
    let channel = (index / params.inner) % params.channels;
    let pair = affine[channel];
    y[index] = x[index] * pair.x + pair.y;
}
