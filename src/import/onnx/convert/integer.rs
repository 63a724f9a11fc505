//! The integer-domain ops with no attributes to read: DynamicQuantizeLinear (opset 11: one
//! input, exactly three outputs) and QLinearMatMul.

use crate::error::Result;
use crate::graph::Op;
use crate::import::onnx::convert::NodeContext;
use crate::ops::Activation;

/// DynamicQuantizeLinear: `x` to `(y, y_scale, y_zero_point)`, all three declared.
pub(super) fn dynamic_quantize_linear(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    ctx.expect_outputs(3, 3)?;
    Ok(Op::DynamicQuantizeLinear)
}

/// QLinearMatMul (opset 10; 21 only widens the types): eight inputs, no attributes.
pub(super) fn qlinear_matmul(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(8, 8)?;
    Ok(Op::QLinearMatMul {
        activation: Activation::Identity,
    })
}
