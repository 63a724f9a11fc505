// The one data-movement kernel behind Transpose, Slice, Split, Pad and Concat: every output
// element is read from the input at a per-axis affine position `source = output·step + offset`
// (src/ops/layout/gather.rs builds the mapping; rank ≤ 8). Elements are raw bits of
// ELEMENT_BYTES (4, 2 or 1) bytes, packed little-endian in u32 words as on the host. Each thread
// produces one whole output word (1, 2 or 4 elements), so sub-word elements never race and no
// atomics are needed. A source position outside the input is handled by OUT_OF_RANGE:
//   0 never happens (Transpose, Slice), 1 the constant fill_bits (Pad constant),
//   2 clamped to the edge (Pad edge), 3 reflected without repeating the edge (Pad reflect),
//   4 the output's existing bits are kept (Concat writes one input per dispatch),
//   5 wrapped around periodically (Pad wrap).
// Threads cover words first_word .. first_word + word_count on the spilled grid of
// src/ops/grid.rs; bits past the last element of the last word are written as 0.

override ELEMENT_BYTES: u32 = 4u;
override OUT_OF_RANGE: u32 = 0u;

struct GatherParams {
    out_shape: array<vec4<u32>, 2>,
    source_extent: array<vec4<u32>, 2>,
    source_stride: array<vec4<u32>, 2>,
    step: array<vec4<i32>, 2>,
    offset: array<vec4<i32>, 2>,
    rank: u32,
    out_count: u32,
    first_word: u32,
    word_count: u32,
    fill_bits: u32,
}

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@group(0) @binding(2) var<uniform> params: GatherParams;

const WORKGROUP_SIZE: u32 = 256u;

// The flat input index of output element `element`, or -1 when it has no source (constant fill
// or kept bits).
fn source_index(element: u32) -> i32 {
    var rest = element;
    var source = 0u;
    for (var axis = i32(params.rank) - 1; axis >= 0; axis--) {
        let slot = u32(axis);
        let extent = params.out_shape[slot / 4u][slot % 4u];
        let position = rest % extent;
        rest /= extent;
        var at = i32(position) * params.step[slot / 4u][slot % 4u]
            + params.offset[slot / 4u][slot % 4u];
        let length = i32(params.source_extent[slot / 4u][slot % 4u]);
        if at < 0 || at >= length {
            switch OUT_OF_RANGE {
                case 2u: {
                    at = clamp(at, 0, length - 1);
                }
                case 3u: {
                    at = select(at, -at, at < 0);
                    at = select(at, 2 * (length - 1) - at, at >= length);
                }
                case 5u: {
                    // Only non-negative operands: GLSL leaves % of negatives undefined.
                    at = select(at % length, length - 1 - (-at - 1) % length, at < 0);
                }
                default: {
                    return -1;
                }
            }
        }
        source += u32(at) * params.source_stride[slot / 4u][slot % 4u];
    }
    return i32(source);
}

// The bits of input element `index`, in the low ELEMENT_BYTES bytes.
fn load_bits(index: u32) -> u32 {
    if ELEMENT_BYTES == 4u {
        return input[index];
    }
    let byte = index * ELEMENT_BYTES;
    let mask = 0xffffffffu >> (32u - 8u * ELEMENT_BYTES);
    return (input[byte / 4u] >> (8u * (byte % 4u))) & mask;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let thread = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if thread >= params.word_count {
        return;
    }
    let word = params.first_word + thread;
    let per_word = 4u / ELEMENT_BYTES;
    let bits_per_element = 8u * ELEMENT_BYTES;
    let mask = 0xffffffffu >> (32u - bits_per_element);
    var packed = 0u;
    for (var slot = 0u; slot < per_word; slot++) {
        let element = word * per_word + slot;
        if element >= params.out_count {
            break;
        }
        let source = source_index(element);
        var bits = 0u;
        if source >= 0 {
            bits = load_bits(u32(source));
        } else if OUT_OF_RANGE == 1u {
            bits = params.fill_bits;
        } else {
            bits = (output[word] >> (slot * bits_per_element)) & mask;
        }
        packed |= bits << (slot * bits_per_element);
    }
    output[word] = packed;
}
