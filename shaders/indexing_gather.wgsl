// ONNX Gather along one axis: data viewed as [outer, extent, inner], indices flattened to
// `index_count` i32 values; output element (o, i, n) = data[o, indices[i], n]. Negative indices
// count from the end (index + extent). An index still outside [0, extent) has no source: the
// element is written as 0 (the kernel never reads out of bounds) and, with CHECK_INDICES, the
// smallest such index position is kept in `status[0]` (atomicMin; the host fills it with
// 0xffffffff). A second launch with RECORD_BAD_INDEX (one thread) copies the index value at that
// position into `status[1]`, so the host reports the same index the CPU reference does: the
// first bad one. Constant indices are checked on the host and bind no status. Elements are raw
// bits of ELEMENT_BYTES (4, 2 or 1) bytes packed little-endian in u32 words; each thread writes
// one whole output word.

override ELEMENT_BYTES: u32 = 4u;
// 1: record the first out-of-range index position in `status`.
override CHECK_INDICES: u32 = 0u;
// 1: this launch only copies the bad index value into `status[1]`.
override RECORD_BAD_INDEX: u32 = 0u;

const NO_BAD_INDEX: u32 = 0xffffffffu;

struct GatherParams {
    extent: u32,
    index_count: u32,
    inner: u32,
    count: u32,
    word_count: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> params: GatherParams;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<i32>;
@group(0) @binding(3) var<storage, read_write> output: array<u32>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>, 2>;

const WORKGROUP_SIZE: u32 = 256u;

// The bits of data element `index`, in the low ELEMENT_BYTES bytes.
fn load_bits(index: u32) -> u32 {
    if ELEMENT_BYTES == 4u {
        return data[index];
    }
    let byte = index * ELEMENT_BYTES;
    let mask = 0xffffffffu >> (32u - 8u * ELEMENT_BYTES);
    return (data[byte / 4u] >> (8u * (byte % 4u))) & mask;
}

// The bits of output element `element`, or 0 when its index is out of range.
fn gathered(element: u32) -> u32 {
    let inner_position = element % params.inner;
    let rest = element / params.inner;
    let index_position = rest % params.index_count;
    let outer_position = rest / params.index_count;
    var position = indices[index_position];
    if position < 0 {
        position += i32(params.extent);
    }
    if position < 0 || position >= i32(params.extent) {
        if CHECK_INDICES == 1u {
            atomicMin(&status[0], index_position);
        }
        return 0u;
    }
    return load_bits((outer_position * params.extent + u32(position)) * params.inner + inner_position);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let word = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if RECORD_BAD_INDEX == 1u {
        let first_bad = atomicLoad(&status[0]);
        if word == 0u && first_bad != NO_BAD_INDEX {
            atomicStore(&status[1], bitcast<u32>(indices[first_bad]));
        }
        return;
    }
    if word >= params.word_count {
        return;
    }
    let bits_per_element = 8u * ELEMENT_BYTES;
    let per_word = 4u / ELEMENT_BYTES;
    var packed = 0u;
    for (var slot = 0u; slot < per_word; slot++) {
        let element = word * per_word + slot;
        if element >= params.count {
            break;
        }
        packed |= gathered(element) << (slot * bits_per_element);
    }
    output[word] = packed;
}
