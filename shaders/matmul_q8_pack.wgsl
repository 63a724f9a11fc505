// The int8 matmul's A operand from a dense int8 or uint8 tensor on the device: rows of K bytes,
// packed back to back (GpuTensor's layout), rewritten as rows padded to k_words = ceil(K / 4)
// words (the layout matmul_q8.wgsl reads), and the tensor's zero point(s) widened to i32.
//
// uint8 (FLIP true) becomes int8 by subtracting 128 from every value and zero point (flipping
// the top bit): a − a_zp is unchanged, so the product is too. One thread writes one output word
// and, for the first `zero_points` threads, one zero point; padding bytes are written as 0 (the
// matmul masks them anyway). Without a zero point the zero point is 0 (before the flip).

override FLIP: bool = false;
override HAS_ZERO_POINT: bool = false;
const WORKGROUP_SIZE: u32 = 256u;

struct PackParams {
    rows: u32,
    k: u32,
    k_words: u32,
    zero_points: u32,
}

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> rows: array<u32>;
@group(0) @binding(2) var<storage, read> zero_point_bytes: array<u32>;
@group(0) @binding(3) var<storage, read_write> zero_points: array<i32>;
@group(0) @binding(4) var<uniform> params: PackParams;


fn input_byte(index: u32) -> u32 {
    let value = (input[index / 4u] >> (8u * (index % 4u))) & 0xffu;
    return select(value, value ^ 0x80u, FLIP);
}

fn zero_point_at(index: u32) -> i32 {
    var value = 0u;
    if HAS_ZERO_POINT {
        value = (zero_point_bytes[index / 4u] >> (8u * (index % 4u))) & 0xffu;
    }
    value = select(value, value ^ 0x80u, FLIP);
    return bitcast<i32>(value << 24u) >> 24u;
}

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let id = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if id < params.zero_points {
        zero_points[id] = zero_point_at(id);
    }
    if id >= params.rows * params.k_words {
        return;
    }
    let row = id / params.k_words;
    let word = id % params.k_words;
    var packed = 0u;
    for (var lane = 0u; lane < 4u; lane++) {
        let k = word * 4u + lane;
        if k < params.k {
            packed |= input_byte(row * params.k + k) << (8u * lane);
        }
    }
    rows[id] = packed;
}
