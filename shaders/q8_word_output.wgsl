// Entry point of the kernels whose int8/uint8 output is packed four per u32 word (little end
// first): each thread builds one whole output word from four output bytes, so neighbouring
// threads never share a word and no atomics are needed; bytes past the last output are 0.
// Joined after a file that declares `output` (array<u32>), `params.count` (output elements),
// `WORKGROUP_SIZE` and `fn output_byte(index: u32) -> u32` (output element `index` in the low 8
// bits). Used by pool2d_io_q8_packed.wgsl, pool2d_qlinear_average.wgsl, resize_nearest_q8.wgsl.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let word = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    let first = 4u * word;
    if first >= params.count {
        return;
    }
    var packed = 0u;
    for (var byte = 0u; byte < 4u && first + byte < params.count; byte++) {
        packed |= output_byte(first + byte) << (8u * byte);
    }
    output[word] = packed;
}
