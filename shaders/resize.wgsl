// Resize over H and W of NCHW f32, one thread per output element on the spilled grid of
// src/ops/grid.rs. Index selection is done on the host in f64, exactly as the ONNX spec states it
// (src/ops/resize/coordinates.rs): `taps` holds, for every output row and then every output
// column, (first index, second index, bits of the second's f32 weight). Nearest reads the first
// tap only; LINEAR blends along W, then along H, like the reference.

override LINEAR: bool = false;

struct ResizeParams {
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    count: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read> taps: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<uniform> params: ResizeParams;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let index = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if index >= params.count {
        return;
    }
    let ox = index % params.out_w;
    let oy = (index / params.out_w) % params.out_h;
    let plane = index / (params.out_w * params.out_h);
    let base = plane * params.in_h * params.in_w;
    let row = 3u * oy;
    let column = 3u * (params.out_h + ox);
    let y0 = base + taps[row] * params.in_w;
    let x0 = taps[column];
    if !LINEAR {
        output[index] = input[y0 + x0];
        return;
    }
    let y1 = base + taps[row + 1u] * params.in_w;
    let x1 = taps[column + 1u];
    let wy = bitcast<f32>(taps[row + 2u]);
    let wx = bitcast<f32>(taps[column + 2u]);
    let top = (1.0 - wx) * input[y0 + x0] + wx * input[y0 + x1];
    let bottom = (1.0 - wx) * input[y1 + x0] + wx * input[y1 + x1];
    output[index] = (1.0 - wy) * top + wy * bottom;
}
