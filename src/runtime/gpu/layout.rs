//! Layout ops on the GPU backend: Transpose, Slice, Split, Concat, Pad and Expand move elements
//! (any 1-, 2- or 4-byte dtype); Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout only
//! relabel a buffer. `eval_node` borrows its inputs, so there they copy; the Plan moves the input's
//! buffer instead when this node is its last reader ([`relabel_shape`]).

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::graph::{Node, Op};
use crate::ops::layout::{
    self, flatten_shape, reshape_shape, squeeze_shape, unsqueeze_shape, PadMode,
};
use crate::runtime::gpu::args::{Args, Constants, Operand};
use crate::tensor::shape::{broadcast_shapes, normalize_axis};
use crate::tensor::{DType, GpuTensor, HostTensor};

/// Dtypes the layout kernel moves (elements of at most one 32-bit word; Bool travels as U8).
pub(super) const LAYOUT_DTYPES: [DType; 5] =
    [DType::F32, DType::F16, DType::I32, DType::I8, DType::U8];

/// Whether `node` only relabels its first input's buffer: Reshape, Flatten, Squeeze, Unsqueeze,
/// Identity, and Dropout without its mask output.
pub fn is_relabel(node: &Node) -> bool {
    match node.op {
        Op::Reshape { .. } | Op::Flatten { .. } | Op::Squeeze | Op::Unsqueeze | Op::Identity => {
            true
        }
        Op::Dropout => node.outputs.len() == 1,
        _ => false,
    }
}

/// The output shape of a relabelling `node` ([`is_relabel`]) from its first input's shape and
/// the host values of its other inputs (`constants[i]` for input `i`: on the GPU only
/// initializers, on the CPU any value). An error when a needed value is absent, does not fit the
/// shape, or the node is no relabel. The Plan uses it on both backends to move a buffer instead
/// of copying it.
pub fn relabel_shape(
    node: &Node,
    input_shape: &[usize],
    constants: &[Option<&HostTensor>],
) -> Result<Vec<usize>> {
    let constants = Constants::new(node, constants);
    match &node.op {
        Op::Reshape { allowzero } => {
            let spec = constants
                .ints(1, "Reshape shape")?
                .ok_or_else(|| constants.invalid("the shape input is required".into()))?;
            reshape_shape(input_shape, &spec, *allowzero)
        }
        Op::Flatten { axis } => flatten_shape(input_shape, *axis),
        Op::Squeeze => squeeze_shape(input_shape, constants.ints(1, "Squeeze axes")?.as_deref()),
        Op::Unsqueeze => {
            let axes = constants
                .ints(1, "Unsqueeze axes")?
                .ok_or_else(|| constants.invalid("the axes input is required".into()))?;
            unsqueeze_shape(input_shape, &axes)
        }
        _ if is_relabel(node) => Ok(input_shape.to_vec()),
        _ => Err(constants.invalid("is not a relabelling op".into())),
    }
}

/// A copy of `tensor` in a new buffer (an identity gather).
pub(super) fn copy(gpu: &Gpu, tensor: &GpuTensor) -> Result<GpuTensor> {
    let identity: Vec<usize> = (0..tensor.shape().len()).collect();
    layout::transpose(gpu, tensor, Some(&identity))
}

/// `tensor` under `shape` (same element count): itself when the shape already matches, else a
/// relabelled copy.
pub(super) fn view<'a>(gpu: &Gpu, tensor: &'a GpuTensor, shape: &[usize]) -> Result<Operand<'a>> {
    if tensor.shape() == shape {
        return Ok(Operand::Borrowed(tensor));
    }
    Ok(Operand::Owned(copy(gpu, tensor)?.reshape(shape)?))
}

/// `tensor` broadcast to `shape` (numpy rules, `shape` already the broadcast result) by one
/// gather. The output's size is checked against the device's binding limit before anything is
/// built, so a hostile target shape (`[1, 2^40, 4, 4]`) is an [`Error::TensorTooLarge`].
pub(super) fn broadcast_to<'a>(
    gpu: &Gpu,
    tensor: &'a GpuTensor,
    shape: &[usize],
) -> Result<Operand<'a>> {
    if tensor.shape() == shape {
        return Ok(Operand::Borrowed(tensor));
    }
    let limit = gpu.max_binding_bytes();
    let bytes = shape
        .iter()
        .try_fold(tensor.dtype().size_bytes() as u64, |acc, &extent| {
            acc.checked_mul(extent as u64)
        })
        .unwrap_or(u64::MAX);
    if bytes > limit {
        return Err(Error::TensorTooLarge {
            location: "a broadcast".into(),
            tensor: format!("the output {shape:?}"),
            bytes,
            limit,
        });
    }
    Ok(Operand::Owned(layout::broadcast(gpu, tensor, shape)?))
}

/// Transpose by `perm` (`None`: reversed axes).
pub(super) fn transpose(args: &Args<'_>, perm: Option<&[usize]>) -> Result<GpuTensor> {
    layout::transpose(args.gpu, args.tensor_of(0, &LAYOUT_DTYPES)?, perm)
}

/// Reshape and its kin ([`is_relabel`]) outside the Plan's move: a copy under the new shape.
/// Dropout with its mask output is no relabel and is [`Error::Unsupported`](crate::Error).
pub(super) fn relabel(args: &Args<'_>) -> Result<GpuTensor> {
    if !is_relabel(args.node) {
        return Err(args.unsupported("Dropout's mask output on the GPU".into()));
    }
    let x = args.tensor_of(0, &LAYOUT_DTYPES)?;
    let shape = relabel_shape(args.node, x.shape(), args.values())?;
    copy(args.gpu, x)?.reshape(&shape)
}

/// Concat of any number of inputs along `axis`.
pub(super) fn concat(args: &Args<'_>, axis: i64) -> Result<GpuTensor> {
    let inputs = (0..args.len())
        .map(|index| args.tensor_of(index, &LAYOUT_DTYPES))
        .collect::<Result<Vec<_>>>()?;
    layout::concat(args.gpu, &inputs, axis)
}

/// Split along `axis` by the constant sizes, `num_outputs`, or the output count.
pub(super) fn split(
    args: &Args<'_>,
    axis: i64,
    num_outputs: Option<usize>,
) -> Result<Vec<GpuTensor>> {
    let x = args.tensor_of(0, &LAYOUT_DTYPES)?;
    let extent = x.shape()[normalize_axis("Split", axis, x.shape().len())?];
    let sizes = match (args.ints(1, "Split sizes")?, num_outputs) {
        (Some(sizes), _) => sizes
            .iter()
            .map(|&size| usize::try_from(size))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| args.invalid(format!("split sizes {sizes:?} must be non-negative")))?,
        // Opset 18 `num_outputs`: pieces of ceil(extent / n), the last one smaller.
        (None, Some(count)) if count > 0 => {
            let piece = extent.div_ceil(count);
            (0..count)
                .map(|index| piece.min(extent.saturating_sub(index * piece)))
                .collect()
        }
        (None, _) => {
            let count = args.node.outputs.len().max(1);
            if !extent.is_multiple_of(count) {
                return Err(args.invalid(format!(
                    "axis of extent {extent} does not split into {count} equal outputs"
                )));
            }
            vec![extent / count; count]
        }
    };
    layout::split(args.gpu, x, axis, &sizes)
}

/// Slice with constant starts, ends, axes and steps.
pub(super) fn slice(args: &Args<'_>) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &LAYOUT_DTYPES)?;
    let required = |index: usize, what: &str| -> Result<Vec<i64>> {
        args.ints(index, what)?
            .ok_or_else(|| args.invalid(format!("{what} are required")))
    };
    let starts = required(1, "Slice starts")?;
    let ends = required(2, "Slice ends")?;
    let axes = args.ints(3, "Slice axes")?;
    let steps = args.ints(4, "Slice steps")?;
    layout::slice(
        args.gpu,
        x,
        &starts,
        &ends,
        axes.as_deref(),
        steps.as_deref(),
    )
}

/// Pad with constant pads (and fill value).
pub(super) fn pad(args: &Args<'_>, mode: PadMode) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &LAYOUT_DTYPES)?;
    let rank = x.shape().len();
    let pads = args
        .ints(1, "Pad pads")?
        .ok_or_else(|| args.invalid("pads are required".into()))?;
    let pads = match args.ints(3, "Pad axes")? {
        None => pads,
        Some(axes) => spread_pads(args, &pads, &axes, rank)?,
    };
    let mode = match (mode, args.scalar(2, "Pad constant_value")?) {
        (PadMode::Constant(_), Some(value)) => PadMode::Constant(value),
        (mode, _) => mode,
    };
    layout::pad(args.gpu, x, &pads, mode)
}

/// Opset-18 pads given only for `axes`, spread to every axis (zeros elsewhere).
fn spread_pads(args: &Args<'_>, pads: &[i64], axes: &[i64], rank: usize) -> Result<Vec<i64>> {
    if pads.len() != 2 * axes.len() {
        return Err(args.invalid(format!(
            "pads {pads:?} must hold two values per axis of {axes:?}"
        )));
    }
    let mut full = vec![0; 2 * rank];
    for (index, &axis) in axes.iter().enumerate() {
        let axis = normalize_axis("Pad", axis, rank)?;
        full[axis] = pads[index];
        full[axis + rank] = pads[index + axes.len()];
    }
    Ok(full)
}

/// Expand to a constant shape.
pub(super) fn expand(args: &Args<'_>) -> Result<GpuTensor> {
    let x = args.tensor_of(0, &LAYOUT_DTYPES)?;
    let spec = args
        .ints(1, "Expand shape")?
        .ok_or_else(|| args.invalid("the shape is required".into()))?;
    let target = spec
        .iter()
        .map(|&dim| usize::try_from(dim))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| args.invalid(format!("shape {spec:?} must be non-negative")))?;
    let shape = broadcast_shapes("Expand", x.shape(), &target)?;
    match broadcast_to(args.gpu, x, &shape)? {
        Operand::Owned(y) => Ok(y),
        Operand::Borrowed(x) => copy(args.gpu, x),
    }
}
