// The fused matmul epilogue: bias (f32, one per output column) then the activation from
// activation.wgsl. Binding 2 is the bias in every matmul-family kernel; with HAS_BIAS false it is
// bound to a placeholder and never read.

override HAS_BIAS: bool = false;

@group(0) @binding(2) var<storage, read> bias: array<f32>;

fn apply_epilogue(acc: f32, col: u32) -> f32 {
    var value = acc;
    if HAS_BIAS {
        value += bias[col];
    }
    return apply_activation(value);
}
