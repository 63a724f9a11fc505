// Flat thread index and broadcast input offsets for the element-wise kernels (binding 0 is the
// shape uniform; inputs follow from binding 1, the output last). One thread per
// output element; the grid spills into y past the per-dimension workgroup limit (src/ops/grid.rs).
// The host coalesces the output's axes first (drops size-1 axes, merges neighbours that every
// input reads contiguously or broadcasts alike), so same-shape operands arrive as rank 1 and the
// loop below runs once. Shapes and strides are uniform arrays of vec4 (16-byte element stride);
// input `i`'s stride for axis `a` is `strides[2 * i + a / 4][a % 4]`, 0 on broadcast axes.

const WORKGROUP_SIZE: u32 = 256u;
const MAX_RANK: u32 = 8u;

struct BroadcastParams {
    count: u32,
    rank: u32,
    pad0: u32,
    pad1: u32,
    out_shape: array<vec4<u32>, 2>,
    strides: array<vec4<u32>, 6>,
}

@group(0) @binding(0) var<uniform> params: BroadcastParams;

fn flat_index(group: vec3<u32>, groups: vec3<u32>, local: vec3<u32>) -> u32 {
    return (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
}

// The element offsets of up to three inputs for output element `index`.
fn input_offsets(index: u32) -> vec3<u32> {
    if params.rank == 1u {
        return index * vec3<u32>(params.strides[0][0], params.strides[2][0], params.strides[4][0]);
    }
    var rest = index;
    var offsets = vec3<u32>(0u);
    for (var step = 0u; step < params.rank; step++) {
        let axis = params.rank - 1u - step;
        let word = axis / 4u;
        let lane = axis % 4u;
        let dim = params.out_shape[word][lane];
        let coordinate = rest % dim;
        rest = rest / dim;
        let strides = vec3<u32>(
            params.strides[word][lane],
            params.strides[2u + word][lane],
            params.strides[4u + word][lane],
        );
        offsets += coordinate * strides;
    }
    return offsets;
}
