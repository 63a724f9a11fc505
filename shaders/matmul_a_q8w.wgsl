// A as kiln's int8 weights (the bindings file and q8_decode.wgsl joined before this one),
// dequantized into f32 tiles exactly as Q8Weights::dequantize does: the convolution's implicit
// GEMM with a weight that stays int8, so the core's f32 accumulation is the only rounding, as
// for f32 operands.
//
// Assumes: A is the weight [M, K] with K = C/groups·kH·kW contiguous, and the core's batch is
// the group, whose rows are M/groups = params.m consecutive weight rows. Each thread loads four
// consecutive k of one row: k0 is a multiple of 16 and kq of 4, so the four bytes are one word of
// the padded row.

fn load_tile_a(batch: u32, row0: u32, k0: u32, thread: u32) {
    let row = thread / 4u;
    let kq = (thread % 4u) * 4u;
    let m = row0 + row;
    var value = vec4<f32>(0.0);
    if m < params.m && k0 + kq < params.k {
        value = q8_load4(batch * params.m + m, k0 + kq, params.k);
    }
    scatter_a_k4(row, kq, value);
}
