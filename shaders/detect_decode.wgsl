// Detection decode: one thread per candidate (anchor × cell of a grid, or one column of a box
// list). It finds the best class (first of equal maxima), scores the candidate, and when the score
// reaches the threshold appends one 8-float record to `records` at a slot taken from `count`:
//   x1, y1, x2, y2 (input pixels), score, class, global candidate index, 0.
// The append order is not deterministic; the host sorts by candidate index. `records` holds one
// slot per candidate of all heads, so the append never overflows. The CPU reference is
// `src/vision/decode.rs`; indexing follows its `HeadLayout`.

struct DecodeParams {
    candidates: u32,
    cells: u32,
    grid_width: u32,
    classes: u32,
    anchor_stride: u32,
    cell_stride: u32,
    value_stride: u32,
    first_candidate: u32,
    kind: u32,
    first_class: u32,
    score_threshold: f32,
    scale_x_y: f32,
    stride_x: f32,
    stride_y: f32,
    pad0: u32,
    pad1: u32,
}

// `kind`: how the box and score are computed.
const KIND_DARKNET: u32 = 0u;
const KIND_YOLOV5: u32 = 1u;
const KIND_BOXES: u32 = 2u;
const WORKGROUP_SIZE: u32 = 256u;
const RECORD_FLOATS: u32 = 8u;

@group(0) @binding(0) var<uniform> params: DecodeParams;
@group(0) @binding(1) var<storage, read> head: array<f32>;
@group(0) @binding(2) var<storage, read> anchors: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> records: array<f32>;
@group(0) @binding(4) var<storage, read_write> count: atomic<u32>;

// NaN by its bit pattern: GL drivers (llvmpipe) may assume no NaN in float comparisons, so `x > y`
// alone does not reject one there.
fn is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}

fn value(base: u32, k: u32) -> f32 {
    return head[base + k * params.value_stride];
}

// The box centre offset within its cell and the size, from the raw tx, ty, tw, th.
fn grid_box(raw: vec4<f32>, anchor: vec2<f32>) -> vec4<f32> {
    if (params.kind == KIND_DARKNET) {
        let shift = (params.scale_x_y - 1.0) / 2.0;
        let offset = vec2(sigmoid(raw.x), sigmoid(raw.y)) * params.scale_x_y - shift;
        return vec4(offset, anchor * exp(raw.zw));
    }
    let offset = 2.0 * vec2(sigmoid(raw.x), sigmoid(raw.y)) - 0.5;
    let grow = 2.0 * vec2(sigmoid(raw.z), sigmoid(raw.w));
    return vec4(offset, grow * grow * anchor);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let candidate = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if (candidate >= params.candidates) {
        return;
    }
    let anchor = candidate / params.cells;
    let cell = candidate % params.cells;
    let base = anchor * params.anchor_stride + cell * params.cell_stride;
    var best_class = 0u;
    var best = value(base, params.first_class);
    for (var class_index = 1u; class_index < params.classes; class_index++) {
        let score = value(base, params.first_class + class_index);
        if (!is_nan(score) && !is_nan(best) && score > best) {
            best = score;
            best_class = class_index;
        }
    }
    let raw = vec4(value(base, 0u), value(base, 1u), value(base, 2u), value(base, 3u));
    var score: f32;
    var center_size: vec4<f32>;
    if (params.kind == KIND_BOXES) {
        score = best;
        if (params.first_class == 5u) {
            score = value(base, 4u) * best;
        }
        center_size = raw;
    } else {
        score = sigmoid(value(base, 4u)) * sigmoid(best);
        let position = vec2(f32(cell % params.grid_width), f32(cell / params.grid_width));
        let decoded = grid_box(raw, anchors[anchor]);
        let stride = vec2(params.stride_x, params.stride_y);
        center_size = vec4((decoded.xy + position) * stride, decoded.zw);
    }
    // A NaN score is never kept (tested by bits, see `is_nan`).
    if (is_nan(score) || !(score >= params.score_threshold)) {
        return;
    }
    let slot = atomicAdd(&count, 1u);
    if (slot >= arrayLength(&records) / RECORD_FLOATS) {
        return;
    }
    let at = slot * RECORD_FLOATS;
    let half_size = center_size.zw / 2.0;
    records[at] = center_size.x - half_size.x;
    records[at + 1u] = center_size.y - half_size.y;
    records[at + 2u] = center_size.x + half_size.x;
    records[at + 3u] = center_size.y + half_size.y;
    records[at + 4u] = score;
    records[at + 5u] = f32(best_class);
    records[at + 6u] = f32(params.first_candidate + candidate);
    records[at + 7u] = 0.0;
}
