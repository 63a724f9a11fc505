//! The GPU lowering of every [`Op`]: one exhaustive match, so a new variant does not compile until
//! it names its launcher here or joins the arm of [`NO_GPU_KERNEL`], the explicit list of ops
//! that have no GPU kernel. This is the GPU facet of the op registry
//! ([`crate::graph::registry`]), which cannot point at launchers from below `runtime`.

use crate::error::Result;
use crate::graph::Op;
use crate::ops::normalization::lrn;
use crate::runtime::gpu::args::Args;
use crate::runtime::gpu::{
    conv, convert, dense, layout, pointwise, quantized_elementwise, quantized_matmul,
    quantized_pool,
};
use crate::tensor::{DType, GpuTensor};

/// What the ops without a GPU kernel (Shape, ConstantOfShape, Range) need instead:
/// inputs that depend only on shapes and initializers, so the passes fold them into constants.
const FOLDED_ONLY: &str = "has no GPU kernel; it must be folded into a constant by \
     the passes, which happens when it depends only on initializers and input shapes";

/// The ops (by ONNX name) that have no GPU kernel: [`lower`] answers them with [`FOLDED_ONLY`].
pub(crate) const NO_GPU_KERNEL: [&str; 3] = ["Shape", "ConstantOfShape", "Range"];

/// Records the launches of `args.node`'s op and returns its outputs.
pub(super) fn lower(args: &Args<'_>) -> Result<Vec<GpuTensor>> {
    let one = |output: Result<GpuTensor>| output.map(|tensor| vec![tensor]);
    one(match &args.node.op {
        Op::Unary(op) => pointwise::unary(args, *op),
        Op::Binary(op) => pointwise::binary(args, *op),
        Op::Variadic(op) => pointwise::variadic(args, *op),
        Op::Clip => pointwise::clip(args),
        Op::Where => pointwise::select(args),
        Op::Compare(op) => convert::compare(args, *op),
        Op::Not => convert::not(args),
        Op::Cast { to } => convert::cast(args, *to),
        Op::MatMul { activation } => dense::matmul(args, *activation),
        Op::Gemm { activation, .. } => {
            let options = args.node.op.gemm_options().unwrap_or_default();
            dense::gemm_with_activation(args, &options, *activation)
        }
        Op::Conv(attrs) => conv::conv(args, attrs),
        Op::ConvTranspose(attrs) => conv::conv_transpose(args, attrs),
        Op::QLinearConv(attrs) => conv::q8_conv_weights(args)
            .and_then(|weights| conv::qlinear_conv(args, attrs, &weights)),
        Op::QLinearBinary { op } => quantized_elementwise::qlinear_binary(args, *op),
        Op::QLinearConcat { axis } => quantized_elementwise::qlinear_concat(args, *axis),
        Op::LookupTable { x_dtype } => quantized_elementwise::lookup_table(args, *x_dtype),
        Op::QuantizeLinear { axis, .. } => pointwise::quantize(args, *axis),
        Op::DequantizeLinear { axis } => pointwise::dequantize(args, *axis),
        Op::DynamicQuantizeLinear => return quantized_matmul::dynamic_quantize(args),
        Op::QLinearMatMul { activation } => quantized_matmul::qlinear_matmul(args, *activation),
        Op::MaxPool(attrs) => conv::pool(args, attrs, true),
        Op::AveragePool(attrs) => conv::pool(args, attrs, false),
        Op::GlobalAveragePool => conv::global_pool(args, false),
        Op::GlobalMaxPool => conv::global_pool(args, true),
        Op::QLinearAveragePool(attrs) => quantized_pool::qlinear_average_pool(args, attrs),
        Op::QLinearGlobalAveragePool => quantized_pool::qlinear_global_average_pool(args),
        Op::BatchNormalization { epsilon } => pointwise::batch_norm(args, *epsilon),
        Op::LayerNormalization { axis, epsilon } => pointwise::layer_norm(args, *axis, *epsilon),
        Op::Lrn(attrs) => lrn(args.gpu, args.tensor_of(0, &[DType::F32])?, attrs),
        Op::Softmax { axis, coerce_2d } => pointwise::softmax_like(args, *axis, *coerce_2d, false),
        Op::LogSoftmax { axis, coerce_2d } => {
            pointwise::softmax_like(args, *axis, *coerce_2d, true)
        }
        Op::Reduce {
            kind,
            keepdims,
            noop_with_empty_axes,
        } => pointwise::reduction(args, *kind, *keepdims, *noop_with_empty_axes),
        Op::ArgMax {
            axis,
            keepdims,
            select_last_index,
        } => pointwise::arg_max(args, *axis, *keepdims, *select_last_index),
        Op::Resize(attrs) => pointwise::resize_node(args, attrs),
        Op::Concat { axis } => layout::concat(args, *axis),
        Op::Split { axis, num_outputs } => return layout::split(args, *axis, *num_outputs),
        Op::Slice => layout::slice(args),
        Op::Transpose { perm } => layout::transpose(args, perm.as_deref()),
        Op::Pad { mode } => layout::pad(args, *mode),
        Op::Expand => layout::expand(args),
        Op::Reshape { .. }
        | Op::Flatten { .. }
        | Op::Squeeze
        | Op::Unsqueeze
        | Op::Identity
        | Op::Dropout => layout::relabel(args),
        Op::Gather { axis } => convert::gather(args, *axis),
        Op::MatMulInteger => quantized_matmul::matmul_integer(args),
        op @ (Op::Shape { .. } | Op::ConstantOfShape { .. } | Op::Range) => {
            let listed = NO_GPU_KERNEL.join(", ");
            Err(args.unsupported(format!(
                "{} {FOLDED_ONLY} (ops without one: {listed})",
                op.name()
            )))
        }
    })
}
