// The fused conv epilogue: bias (f32, one per output channel) then the activation from
// activation.wgsl. Binding 2 is the bias in every float conv kernel; with HAS_BIAS false it is
// bound to a placeholder and never read.
//
// In the implicit-GEMM programs the tiled core's rows are output channels, and the core applies
// `apply_epilogue(acc, col)` with a column (a pixel) index, which cannot find the channel's bias.
// So here that hook passes the sum through unchanged, and the C stores (matmul_c_nchw_*.wgsl) call
// conv_epilogue with the channel instead.

override HAS_BIAS: bool = false;

@group(0) @binding(2) var<storage, read> bias: array<f32>;

fn conv_epilogue(acc: f32, channel: u32) -> f32 {
    var value = acc;
    if HAS_BIAS {
        value += bias[channel];
    }
    return apply_activation(value);
}

fn apply_epilogue(acc: f32, col: u32) -> f32 {
    return acc;
}
