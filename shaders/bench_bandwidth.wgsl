// The roofline's bandwidth kernel: copies `source` into `destination` in 16-byte vec4 elements.
// Each invocation strides over the arrays by the grid's size, so a dispatch of any size covers any
// length. One run moves 2 · 16 · count bytes (each element read once and written once).

const WORKGROUP_SIZE: u32 = 256u;

struct CopyParams {
    count: u32,
    grid_stride: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> params: CopyParams;
@group(0) @binding(1) var<storage, read> source: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> destination: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    for (var index = id.x; index < params.count; index += params.grid_stride) {
        destination[index] = source[index];
    }
}
