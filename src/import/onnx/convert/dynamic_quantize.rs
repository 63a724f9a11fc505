//! DynamicQuantizeLinear (opset 11): no attributes, one input, exactly three outputs.

use crate::error::Result;
use crate::graph::Op;
use crate::import::onnx::convert::NodeContext;

/// DynamicQuantizeLinear: `x` to `(y, y_scale, y_zero_point)`, all three declared.
pub(super) fn dynamic_quantize_linear(ctx: &mut NodeContext) -> Result<Op> {
    ctx.expect_inputs(1, 1)?;
    ctx.expect_outputs(3, 3)?;
    Ok(Op::DynamicQuantizeLinear)
}
