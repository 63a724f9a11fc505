//! Opset-6 forms the later opsets dropped: binary ops' and comparisons' `broadcast`/`axis`
//! attributes (normalised to numpy broadcasting, with a synthesised Reshape where `axis` places
//! the second input before the first's trailing dimensions) and BatchNormalization's and
//! Dropout's `is_test` (kiln runs inference only). `consumed_inputs` needs nothing: it only
//! described in-place buffer reuse.

use super::NodeContext;
use crate::error::Result;

/// The first opset with numpy broadcasting and without `is_test`.
const NUMPY_BROADCAST_SINCE: i64 = 7;

/// Makes a binary node of an opset before 7 broadcast the numpy way. `broadcast=0` (same
/// shapes) and `broadcast=1` without `axis` (trailing alignment) already do; with `axis`, B's
/// dimensions line up with A's from `axis`, so B is reshaped to gain the trailing 1s numpy needs.
pub(super) fn align_legacy_broadcast(ctx: &mut NodeContext) -> Result<()> {
    if ctx.opset >= NUMPY_BROADCAST_SINCE || !ctx.attrs.bool_or("broadcast", false)? {
        return Ok(());
    }
    let Some(axis) = ctx.attrs.int("axis")? else {
        return Ok(());
    };
    let (Some(rank_a), Some(rank_b)) = (ctx.known_rank(0), ctx.known_rank(1)) else {
        return Err(ctx.attrs.unsupported(
            "axis",
            "needs both inputs' ranks (an initializer or a declared shape) to align B".into(),
        ));
    };
    let axis = if axis < 0 { axis + rank_a as i64 } else { axis };
    let trailing = usize::try_from(axis)
        .ok()
        .and_then(|axis| rank_a.checked_sub(axis)?.checked_sub(rank_b));
    let Some(trailing) = trailing else {
        return Err(ctx.attrs.invalid(
            "axis",
            format!("B of rank {rank_b} does not fit in A of rank {rank_a} from axis {axis}"),
        ));
    };
    if trailing == 0 {
        return Ok(());
    }
    let shape = std::iter::repeat_n(0, rank_b)
        .chain(std::iter::repeat_n(1, trailing))
        .collect();
    ctx.reshape_input(1, shape)
}

/// Rejects `is_test=0` (training mode) before opset 7, where BatchNormalization and Dropout
/// carried it.
pub(super) fn reject_training_mode(ctx: &NodeContext) -> Result<()> {
    if ctx.opset < NUMPY_BROADCAST_SINCE && !ctx.attrs.bool_or("is_test", false)? {
        return Err(ctx.attrs.unsupported(
            "is_test",
            format!(
                "is 0 (training mode); kiln runs {} in inference only",
                ctx.op_type
            ),
        ));
    }
    Ok(())
}
