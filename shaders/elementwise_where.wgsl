// ONNX Where with numpy broadcasting across all three inputs: out = cond ? x : y, one thread per
// output element. `cond` is a u8 tensor (ONNX bool; any non-zero byte is true) packed four bytes
// per u32 word, low byte first, as kiln stores u8 tensors. The chosen value is copied by bits, so
// NaN and ±inf pass through unchanged.

@group(0) @binding(1) var<storage, read> condition: array<u32>;
@group(0) @binding(2) var<storage, read> input_x: array<u32>;
@group(0) @binding(3) var<storage, read> input_y: array<u32>;
@group(0) @binding(4) var<storage, read_write> output: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let index = flat_index(group, groups, local);
    if index >= params.count {
        return;
    }
    let offsets = input_offsets(index);
    let byte = (condition[offsets.x / 4u] >> (8u * (offsets.x % 4u))) & 0xffu;
    output[index] = select(input_y[offsets.z], input_x[offsets.y], byte != 0u);
}
