// ReduceSum, ReduceMean, ReduceMax and ArgMax over any set of axes: one workgroup per output
// element. The host splits the input's axes into kept and reduced ones and coalesces each list
// (size-1 axes dropped, neighbours that are contiguous in memory merged), so reducing the last
// axes arrives as one contiguous reduced axis. Threads stride over the reduced elements and
// combine through workgroup memory. Max and ArgMax compare integer order keys
// (elementwise_float_bits.wgsl), so NaN is the largest value on every backend; ArgMax breaks ties
// by the smaller index, or the larger with SELECT_LAST_INDEX. Needs elementwise_float_bits.wgsl.

override REDUCE_OP: u32 = 0u; // 0 sum, 1 mean, 2 max, 3 argmax (codes of `ReduceKind::code`)
override SELECT_LAST_INDEX: bool = false;

const WORKGROUP_SIZE: u32 = 128u;
const NEG_INF_KEY: u32 = 0x007fffffu;

struct ReduceParams {
    outputs: u32,
    reduced_count: u32,
    kept_rank: u32,
    reduced_rank: u32,
    kept_shape: array<vec4<u32>, 2>,
    kept_strides: array<vec4<u32>, 2>,
    reduced_shape: array<vec4<u32>, 2>,
    reduced_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> params: ReduceParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;

var<workgroup> partial_sums: array<f32, WORKGROUP_SIZE>;
var<workgroup> partial_keys: array<u32, WORKGROUP_SIZE>;
var<workgroup> partial_indices: array<u32, WORKGROUP_SIZE>;

fn kept_offset(index: u32) -> u32 {
    var rest = index;
    var offset = 0u;
    for (var step = 0u; step < params.kept_rank; step++) {
        let axis = params.kept_rank - 1u - step;
        let dim = params.kept_shape[axis / 4u][axis % 4u];
        offset += (rest % dim) * params.kept_strides[axis / 4u][axis % 4u];
        rest /= dim;
    }
    return offset;
}

fn reduced_offset(index: u32) -> u32 {
    if params.reduced_rank == 1u {
        return index * params.reduced_strides[0][0];
    }
    var rest = index;
    var offset = 0u;
    for (var step = 0u; step < params.reduced_rank; step++) {
        let axis = params.reduced_rank - 1u - step;
        let dim = params.reduced_shape[axis / 4u][axis % 4u];
        offset += (rest % dim) * params.reduced_strides[axis / 4u][axis % 4u];
        rest /= dim;
    }
    return offset;
}

// Whether candidate (key, index) beats the current best for ArgMax.
fn beats(key: u32, index: u32, best_key: u32, best_index: u32) -> bool {
    if key != best_key {
        return key > best_key;
    }
    return select((index < best_index), (index > best_index), SELECT_LAST_INDEX);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let out = group.y * groups.x + group.x;
    if out >= params.outputs {
        return;
    }
    let base = kept_offset(out);
    var sum = 0.0;
    var best_key = select(NEG_INF_KEY, 0u, REDUCE_OP == 3u);
    var best_index = select(0xffffffffu, 0u, SELECT_LAST_INDEX);
    for (var r = local; r < params.reduced_count; r += WORKGROUP_SIZE) {
        let x = input[base + reduced_offset(r)];
        if REDUCE_OP < 2u {
            sum += x;
        } else {
            let key = order_key(x);
            if beats(key, r, best_key, best_index) {
                best_key = key;
                best_index = r;
            }
        }
    }
    partial_sums[local] = sum;
    partial_keys[local] = best_key;
    partial_indices[local] = best_index;
    workgroupBarrier();
    for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
        if local < half {
            partial_sums[local] += partial_sums[local + half];
            let key = partial_keys[local + half];
            let index = partial_indices[local + half];
            if beats(key, index, partial_keys[local], partial_indices[local]) {
                partial_keys[local] = key;
                partial_indices[local] = index;
            }
        }
        workgroupBarrier();
    }
    if local != 0u {
        return;
    }
    switch REDUCE_OP {
        case 0u: { output[out] = bitcast<u32>(partial_sums[0]); }
        case 1u: {
            let count = params.reduced_count;
            let mean = partial_sums[0] / f32(count);
            output[out] = select(bitcast<u32>(mean), NAN_BITS | (count & 0u), count == 0u);
        }
        case 2u: { output[out] = bitcast<u32>(from_order_key(partial_keys[0])); }
        default: { output[out] = partial_indices[0]; }
    }
}
