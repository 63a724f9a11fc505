//! The operations a [`crate::graph::Node`] can hold, with their attributes typed and checked at
//! import. Importers normalise every opset to one form: attributes that later opsets moved into
//! inputs (Reshape's shape, Slice's starts and ends, Squeeze's axes, Pad's pads, Clip's bounds,
//! Split's sizes, Reduce axes, Resize's scales) are always inputs here, so a backend handles each
//! op one way. Inputs are listed per variant in ONNX order; `None` marks an omitted optional one.

pub use crate::ops::convert::CompareOp;
use crate::ops::elementwise::{BinaryOp, UnaryOp, VariadicOp};
use crate::ops::gemm::GemmOptions;
use crate::ops::layout::PadMode;
use crate::ops::normalization::LrnAttrs;
use crate::ops::quantized_elementwise::QLinearBinaryOp;
use crate::ops::reduce::ReduceKind;
use crate::ops::resize::{CoordinateMode, ResizeMode};
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::{DType, HostTensor};

pub use crate::ops::conv::AutoPad;

/// Conv / QLinearConv / ConvTranspose attributes over `s` spatial axes (kiln runs s = 2; other
/// ranks are rejected by the backends, not the importer). Lists that a model omits are filled with
/// ONNX's defaults at import, so every list here has `s` entries (`pads` has `2·s`: all begins, then
/// all ends), except `kernel_shape`, which is taken from the weight when empty.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConvAttrs {
    /// Kernel extent per spatial axis; empty means "from the weight's shape".
    pub kernel_shape: Vec<usize>,
    /// Stride per spatial axis.
    pub strides: Vec<usize>,
    /// Begin pads then end pads, per spatial axis.
    pub pads: Vec<usize>,
    /// Dilation per spatial axis.
    pub dilations: Vec<usize>,
    /// Number of groups.
    pub group: usize,
    /// `auto_pad`; when not `NotSet` the backends compute the pads from the input shape.
    pub auto_pad: AutoPad,
    /// An activation fused into the output by [`crate::graph::passes`]; `Identity` as imported.
    pub activation: Activation,
}

impl Default for ConvAttrs {
    /// A node that omits every attribute: empty lists (ONNX's defaults, resolved for the weight's
    /// rank by [`crate::ops::conv::geometry`]), one group, explicit pads, no fused activation.
    fn default() -> Self {
        ConvAttrs {
            kernel_shape: vec![],
            strides: vec![],
            pads: vec![],
            dilations: vec![],
            group: 1,
            auto_pad: AutoPad::NotSet,
            activation: Activation::Identity,
        }
    }
}

/// ConvTranspose's attributes beyond [`ConvAttrs`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConvTransposeAttrs {
    /// The shared convolution attributes (`activation` stays `Identity`).
    pub conv: ConvAttrs,
    /// Extra size added to one side of each output axis.
    pub output_padding: Vec<usize>,
    /// An explicit output spatial shape, from which the pads are computed (empty: none).
    pub output_shape: Vec<usize>,
}

/// MaxPool / AveragePool attributes (lists filled with defaults at import, as [`ConvAttrs`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PoolAttrs {
    /// Window extent per spatial axis (required by ONNX).
    pub kernel_shape: Vec<usize>,
    /// Stride per spatial axis.
    pub strides: Vec<usize>,
    /// Begin pads then end pads.
    pub pads: Vec<usize>,
    /// Dilation per spatial axis.
    pub dilations: Vec<usize>,
    /// Output extents rounded up instead of down.
    pub ceil_mode: bool,
    /// AveragePool divides by the whole window, padding included.
    pub count_include_pad: bool,
    /// `auto_pad`.
    pub auto_pad: AutoPad,
}

/// Resize's attributes (Upsample imports as Resize with `Asymmetric` coordinates).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResizeAttrs {
    /// Nearest (with its rounding) or linear. `cubic` is rejected at import as unsupported.
    pub mode: ResizeMode,
    /// `coordinate_transformation_mode`.
    pub coordinates: CoordinateMode,
    /// `axes` (opset 18), empty for all axes.
    pub axes: Vec<i64>,
}

/// One operation. The comment on each variant lists its inputs in order (`?`: optional) and its
/// outputs.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Op {
    /// `(x) -> y`: Sqrt, Exp, Log, Neg, Abs, and every standalone activation (Relu, LeakyRelu,
    /// Sigmoid, Tanh, HardSigmoid, HardSwish, Gelu, Softplus): a [`PointwiseActivation`], which
    /// cannot be Identity (that is [`Op::Identity`]) or Clip (that is [`Op::Clip`]).
    Unary(UnaryOp),
    /// `(a, b) -> y` with numpy broadcasting: Add, Sub, Mul, Div, Pow (and two-input Min/Max).
    Binary(BinaryOp),
    /// `(x0, x1, ...) -> y`: Sum, Min, Max over any number of broadcast inputs.
    Variadic(VariadicOp),
    /// `(x, min?, max?) -> y`; opset < 11 attribute bounds become initializer inputs. The one
    /// standalone Clip: the passes fuse it into a producer as [`Activation::Clip`] when its bounds
    /// are constants.
    Clip,
    /// `(condition: bool, x, y) -> z`.
    Where,
    /// `(a, b) -> bool`.
    Compare(CompareOp),
    /// `(x: bool) -> bool`.
    Not,
    /// `(x) -> y` converted to `to`.
    Cast {
        /// The target element type.
        to: DType,
    },
    /// `(a, b) -> y`, numpy matmul semantics; `activation` is fused by the passes.
    MatMul {
        /// Fused activation (`Identity` as imported).
        activation: Activation,
    },
    /// `(a, b, c?) -> y = alpha·op(a)·op(b) + beta·c`.
    Gemm {
        /// Scale of the product.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        alpha: f32,
        /// Scale of `c`.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        beta: f32,
        /// Use `aᵀ`.
        trans_a: bool,
        /// Use `bᵀ`.
        trans_b: bool,
        /// Fused activation (`Identity` as imported).
        activation: Activation,
    },
    /// `(x, w, b?) -> y`.
    Conv(ConvAttrs),
    /// `(x, w, b?) -> y`.
    ConvTranspose(ConvTransposeAttrs),
    /// `(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, b?) -> y`.
    QLinearConv(ConvAttrs),
    /// `(a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point) -> y`:
    /// onnxruntime's QLinearAdd / QLinearMul on int8/uint8 values with numpy broadcasting and
    /// per-tensor constant quantization ([`crate::ops::quantized_elementwise`]).
    QLinearBinary {
        /// Add or Mul.
        op: QLinearBinaryOp,
    },
    /// `(y_scale, y_zero_point, x0, x0_scale, x0_zero_point, x1, …) -> y`: onnxruntime's
    /// QLinearConcat, each int8/uint8 input requantized to the output's quantization.
    QLinearConcat {
        /// The axis (may be negative).
        axis: i64,
    },
    /// `(x, table) -> y`: `y = table[x − min(x's dtype)]` for int8/uint8 `x` and a 256-entry
    /// int8/uint8 `table`; what a float computation between a DequantizeLinear and a
    /// QuantizeLinear lowers to.
    LookupTable {
        /// x's dtype (`I8` or `U8`), which sets the table's origin (−128 or 0): the exporter, which
        /// sees no value types, needs it to write the standard form; x must have it.
        x_dtype: DType,
    },
    /// `(a, b, a_zero_point?, b_zero_point?) -> i32`.
    MatMulInteger,
    /// `(x) -> (y: u8, y_scale: f32 [], y_zero_point: u8 [])` (ONNX opset 11).
    DynamicQuantizeLinear,
    /// `(a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point, bias?) -> y`
    /// (int8 or uint8 from `y_zero_point`). ONNX's QLinearMatMul has no `bias` and no activation:
    /// both come only from the QDQ lowering of a Gemm (an i32 bias per column of scale
    /// `a_scale · b_scale[n]`, and a Relu before the output's quantization). Export writes it as
    /// `DequantizeLinear → MatMul → [Add] → [Relu] → QuantizeLinear`.
    QLinearMatMul {
        /// `Identity` as imported, or `Relu` from the lowering.
        activation: Activation,
    },
    /// `(x, y_scale, y_zero_point?) -> y` (int8 or uint8 from the zero point's type).
    QuantizeLinear {
        /// Axis of per-axis scales.
        axis: i64,
        /// Saturate (always true for the integer types kiln has).
        saturate: bool,
    },
    /// `(x, x_scale, x_zero_point?) -> f32`.
    DequantizeLinear {
        /// Axis of per-axis scales.
        axis: i64,
    },
    /// `(x) -> y` (the optional `Indices` output is rejected at import).
    MaxPool(PoolAttrs),
    /// `(x) -> y`.
    AveragePool(PoolAttrs),
    /// `(x) -> y` of shape `[N, C, 1, 1]`.
    GlobalAveragePool,
    /// `(x) -> y` of shape `[N, C, 1, 1]`.
    GlobalMaxPool,
    /// `(x, x_scale, x_zero_point?, y_scale, y_zero_point?) -> y` (onnxruntime's `com.microsoft`
    /// input order): AveragePool of int8/uint8 `x` over 2 spatial axes, summed in i32 and
    /// requantized to `y`'s scale and zero point ([`crate::ops::pooling::qlinear`]).
    QLinearAveragePool(PoolAttrs),
    /// `(x, x_scale, x_zero_point?, y_scale, y_zero_point?) -> y` of shape `[N, C, 1, …]`: the
    /// quantized GlobalAveragePool, as [`Op::QLinearAveragePool`].
    QLinearGlobalAveragePool,
    /// `(x, scale, bias, mean, var) -> y` (inference mode only).
    BatchNormalization {
        /// Added to the variance.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        epsilon: f32,
    },
    /// `(x, scale, bias?) -> y` (the optional mean / inv-std-dev outputs are rejected at import).
    LayerNormalization {
        /// First normalised axis.
        axis: i64,
        /// Added to the variance.
        #[serde(with = "crate::tensor::serde_repr::float32")]
        epsilon: f32,
    },
    /// `(x) -> y`: LocalResponseNormalization across channels of `[N, C, ...]`.
    Lrn(LrnAttrs),
    /// `(x) -> y`.
    Softmax {
        /// The axis.
        axis: i64,
        /// Opset < 13: the input is coerced to 2-D at `axis` and normalised over everything after it.
        coerce_2d: bool,
    },
    /// `(x) -> y`.
    LogSoftmax {
        /// The axis.
        axis: i64,
        /// As for Softmax.
        coerce_2d: bool,
    },
    /// `(x, axes?: i64) -> y`: ReduceSum, ReduceMean, ReduceMax.
    Reduce {
        /// Which reduction.
        kind: ReduceKind,
        /// Keep reduced axes as size 1.
        keepdims: bool,
        /// With no axes: identity instead of reducing everything.
        noop_with_empty_axes: bool,
    },
    /// `(x) -> i64 indices`.
    ArgMax {
        /// The axis.
        axis: i64,
        /// Keep the axis as size 1.
        keepdims: bool,
        /// Ties go to the last index.
        select_last_index: bool,
    },
    /// `(x, roi?, scales?, sizes?) -> y`.
    Resize(ResizeAttrs),
    /// `(x0, x1, ...) -> y`.
    Concat {
        /// The axis (may be negative).
        axis: i64,
    },
    /// `(x, split?: i64) -> y0, y1, ...`.
    Split {
        /// The axis.
        axis: i64,
        /// Opset 18 `num_outputs`, when given instead of sizes.
        num_outputs: Option<usize>,
    },
    /// `(x, starts, ends, axes?, steps?) -> y`.
    Slice,
    /// `(x) -> y`.
    Transpose {
        /// The permutation; `None` reverses the axes.
        perm: Option<Vec<usize>>,
    },
    /// `(x, pads: i64, constant_value?, axes?) -> y`.
    Pad {
        /// constant / reflect / edge / wrap (the constant comes from the input).
        mode: PadMode,
    },
    /// `(x, shape: i64) -> y`.
    Reshape {
        /// A 0 in `shape` means a zero-sized axis, not "copy the input's".
        allowzero: bool,
    },
    /// `(x) -> 2-D y`.
    Flatten {
        /// Axes before this go to the first dimension.
        axis: i64,
    },
    /// `(x, axes?: i64) -> y`.
    Squeeze,
    /// `(x, axes: i64) -> y`.
    Unsqueeze,
    /// `(x, shape: i64) -> y` broadcast to `shape`.
    Expand,
    /// `(data, indices) -> y`.
    Gather {
        /// The axis indexed.
        axis: i64,
    },
    /// `(x) -> i64 shape`, sliced to `[start, end)`.
    Shape {
        /// First axis reported.
        start: i64,
        /// One past the last axis reported (`None`: all).
        end: Option<i64>,
    },
    /// `(shape: i64) -> y` filled with `value` (a one-element tensor).
    ConstantOfShape {
        /// The fill value and dtype.
        #[serde(with = "crate::tensor::serde_repr::host_tensor")]
        value: HostTensor,
    },
    /// `(start, limit, delta) -> y`.
    Range,
    /// `(x) -> x`. Removed by the passes.
    Identity,
    /// `(x, ratio?, training_mode?) -> x` in inference. Removed by the passes.
    Dropout,
}

impl Op {
    /// A Gemm's `alpha`, `beta`, `transA` and `transB` as the Gemm references and launchers take
    /// them; `None` for other ops.
    pub fn gemm_options(&self) -> Option<GemmOptions> {
        match *self {
            Op::Gemm {
                alpha,
                beta,
                trans_a,
                trans_b,
                ..
            } => Some(GemmOptions {
                alpha,
                beta,
                trans_a,
                trans_b,
            }),
            _ => None,
        }
    }

    /// The ONNX operator name this op imports from (for messages and the unsupported-op report).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Unary(unary) => unary_name(*unary),
            Op::Binary(binary) => binary_name(*binary),
            Op::Variadic(variadic) => variadic.name(),
            Op::Clip => "Clip",
            Op::Where => "Where",
            Op::Compare(CompareOp::Equal) => "Equal",
            Op::Compare(CompareOp::Less) => "Less",
            Op::Compare(CompareOp::LessOrEqual) => "LessOrEqual",
            Op::Compare(CompareOp::Greater) => "Greater",
            Op::Compare(CompareOp::GreaterOrEqual) => "GreaterOrEqual",
            Op::Not => "Not",
            Op::Cast { .. } => "Cast",
            Op::MatMul { .. } => "MatMul",
            Op::Gemm { .. } => "Gemm",
            Op::Conv(_) => "Conv",
            Op::ConvTranspose(_) => "ConvTranspose",
            Op::QLinearConv(_) => "QLinearConv",
            Op::QLinearBinary { op } => op.name(),
            Op::QLinearConcat { .. } => "QLinearConcat",
            Op::LookupTable { .. } => "LookupTable",
            Op::MatMulInteger => "MatMulInteger",
            Op::DynamicQuantizeLinear => "DynamicQuantizeLinear",
            Op::QLinearMatMul { .. } => "QLinearMatMul",
            Op::QuantizeLinear { .. } => "QuantizeLinear",
            Op::DequantizeLinear { .. } => "DequantizeLinear",
            Op::MaxPool(_) => "MaxPool",
            Op::AveragePool(_) => "AveragePool",
            Op::GlobalAveragePool => "GlobalAveragePool",
            Op::GlobalMaxPool => "GlobalMaxPool",
            Op::QLinearAveragePool(_) => "QLinearAveragePool",
            Op::QLinearGlobalAveragePool => "QLinearGlobalAveragePool",
            Op::BatchNormalization { .. } => "BatchNormalization",
            Op::LayerNormalization { .. } => "LayerNormalization",
            Op::Lrn(_) => "LRN",
            Op::Softmax { .. } => "Softmax",
            Op::LogSoftmax { .. } => "LogSoftmax",
            Op::Reduce { kind, .. } => match kind {
                ReduceKind::Sum => "ReduceSum",
                ReduceKind::Mean => "ReduceMean",
                ReduceKind::Max => "ReduceMax",
            },
            Op::ArgMax { .. } => "ArgMax",
            Op::Resize(_) => "Resize",
            Op::Concat { .. } => "Concat",
            Op::Split { .. } => "Split",
            Op::Slice => "Slice",
            Op::Transpose { .. } => "Transpose",
            Op::Pad { .. } => "Pad",
            Op::Reshape { .. } => "Reshape",
            Op::Flatten { .. } => "Flatten",
            Op::Squeeze => "Squeeze",
            Op::Unsqueeze => "Unsqueeze",
            Op::Expand => "Expand",
            Op::Gather { .. } => "Gather",
            Op::Shape { .. } => "Shape",
            Op::ConstantOfShape { .. } => "ConstantOfShape",
            Op::Range => "Range",
            Op::Identity => "Identity",
            Op::Dropout => "Dropout",
        }
    }
}

fn unary_name(unary: UnaryOp) -> &'static str {
    match unary {
        UnaryOp::Sqrt => "Sqrt",
        UnaryOp::Exp => "Exp",
        UnaryOp::Log => "Log",
        UnaryOp::Neg => "Neg",
        UnaryOp::Abs => "Abs",
        UnaryOp::Activation(activation) => match activation {
            PointwiseActivation::Relu => "Relu",
            PointwiseActivation::LeakyRelu { .. } => "LeakyRelu",
            PointwiseActivation::Sigmoid => "Sigmoid",
            PointwiseActivation::Tanh => "Tanh",
            PointwiseActivation::Silu => "Silu",
            PointwiseActivation::Gelu => "Gelu",
            PointwiseActivation::HardSigmoid { .. } => "HardSigmoid",
            PointwiseActivation::HardSwish => "HardSwish",
            PointwiseActivation::Softplus => "Softplus",
        },
    }
}

fn binary_name(binary: BinaryOp) -> &'static str {
    match binary {
        BinaryOp::Add => "Add",
        BinaryOp::Sub => "Sub",
        BinaryOp::Mul => "Mul",
        BinaryOp::Div => "Div",
        BinaryOp::Pow => "Pow",
        BinaryOp::Min => "Min",
        BinaryOp::Max => "Max",
    }
}
