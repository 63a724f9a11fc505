// Nearest Resize over H and W of NCHW int8 or uint8 packed four per u32 word (little end first),
// on the spilled grid of src/ops/grid.rs. The taps are those of resize.wgsl (the host picks every
// source index in f64, src/ops/resize/coordinates.rs): for every output row, then every output
// column, (first index, second index, weight bits); nearest reads the first index only. Each thread
// builds one output word from four copied bytes, so no two threads write one word and no atomics
// are needed; bytes past the last output are 0. A copy needs no sign: int8 and uint8 run alike.

struct ResizeParams {
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    count: u32,
}

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read> taps: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;
@group(0) @binding(3) var<uniform> params: ResizeParams;

const WORKGROUP_SIZE: u32 = 256u;

// The byte of output element `index`: the input byte its row and column taps select.
fn output_byte(index: u32) -> u32 {
    let ox = index % params.out_w;
    let oy = (index / params.out_w) % params.out_h;
    let plane = index / (params.out_w * params.out_h);
    let source = plane * params.in_h * params.in_w + taps[3u * oy] * params.in_w
        + taps[3u * (params.out_h + ox)];
    return (input[source / 4u] >> (8u * (source % 4u))) & 0xffu;
}
