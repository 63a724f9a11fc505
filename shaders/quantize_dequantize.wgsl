// DequantizeLinear: y = (q − zero_point) · scale, from int8, uint8 or int32, one thread per output.
// For 8-bit inputs q − zero_point is exact in i32 and in f32, so the product is the only rounding.
// int32 inputs have no zero point (ONNX fixes it at 0); converting q to f32 may round once more.

const WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> q: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

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
    let p = param_index(index);
    var value: i32;
    if QUANT_KIND == 2u {
        value = bitcast<i32>(q[index]);
    } else {
        value = unpack_byte(q[index / 4u], index % 4u);
    }
    y[index] = f32(value - zero_point_at(p)) * scale[p];
}
