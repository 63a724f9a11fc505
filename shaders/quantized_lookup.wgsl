// A 256-entry lookup table on int8/uint8: y = table[x − min(x's dtype)], bytes packed four per u32
// word (low byte first). For int8 x, x − (−128) is x's byte with its top bit flipped; for uint8 it
// is the byte itself. Each thread writes one whole output word; the last word's unused bytes are 0.

const WORKGROUP_SIZE: u32 = 256u;

override X_SIGNED: bool = true;

struct LookupParams {
    count: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
@group(0) @binding(3) var<uniform> params: LookupParams;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let word = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if word * 4u >= params.count {
        return;
    }
    let x_word = x[word];
    var packed = 0u;
    for (var lane = 0u; lane < 4u; lane++) {
        if word * 4u + lane < params.count {
            let byte = (x_word >> (8u * lane)) & 0xffu;
            let position = select(byte, byte ^ 0x80u, X_SIGNED);
            let entry = (table[position / 4u] >> (8u * (position % 4u))) & 0xffu;
            packed |= entry << (8u * lane);
        }
    }
    y[word] = packed;
}
