//! The op registry: one entry per op family, naming every facet of its ops. A [`Family`] groups
//! the [`Op`] variants that share a home in [`crate::ops`]; its [`FamilySpec`] holds the ONNX op
//! types it imports (with the first opset defining each and the outputs kiln computes), its
//! shape/dtype rule (used by [`crate::graph::infer`]), its CPU reference rule (used by
//! [`crate::graph::eval::eval_node`]) and a slot for its backward rule (used by training).
//! [`Op::family`] is the one exhaustive match from ops to families.
//!
//! Facets that live above `graph` cannot be function pointers here (module dependencies point
//! one way: `ops` ← `graph` ← `runtime`, and `import` above `graph`), so each of those layers
//! picks its facet by an exhaustive `match` over [`Family`] (the ONNX converter in
//! `import::onnx::convert`) or over [`Op`] (the GPU lowering in `runtime::gpu::dispatch`, the ONNX
//! writer's attributes in `import::onnx::export::nodes`): a new family or variant does not compile
//! until each layer names its facet. The importer's op-type lookup and
//! [`crate::import::onnx::SUPPORTED_OPS`] are read from the [`FamilySpec::onnx`] lists.
//!
//! # How to add an op
//! To an existing family (say `Op::Elu` to [`Family::Elementwise`]), edit:
//! 1. `src/graph/op.rs`: the variant, and its ONNX name in [`Op::name`];
//! 2. `src/graph/registry/mod.rs`: its arm in [`Op::family`] (the compiler asks);
//! 3. `src/graph/registry/<family>.rs`: its ONNX op type, first opset and outputs, and its arms
//!    in the family's shape and CPU rules (and backward rule, when the family has one);
//! 4. `src/graph/eval/<file>.rs`: reading its inputs into the reference, unless the family's CPU
//!    rule does that inline;
//! 5. `src/ops/<family>/`: its reference and GPU launcher (a new file there is declared in the
//!    family's `mod.rs`), the WGSL in `shaders/<family>*.wgsl`;
//! 6. `src/import/onnx/convert/<file>.rs`: the converter (attributes, defaults, old opsets) and
//!    its arm in the family's op-type map there (a test asks);
//! 7. `src/import/onnx/export/nodes.rs`: its attributes (the compiler asks);
//! 8. `src/runtime/gpu/dispatch.rs`: its launcher, or the `NO_GPU_KERNEL` arm (the compiler
//!    asks);
//! 9. `src/graph/eval/robustness.rs` and `robustness_seeds.rs`: its test samples (the compiler
//!    asks).
//!
//! For LRN that is 10 source files outside its tests (op.rs, registry/mod.rs,
//! registry/normalization.rs, eval/normalize.rs, ops/normalization/lrn.rs and mod.rs,
//! convert/reduce.rs, export/nodes.rs, gpu/dispatch.rs, and the shader), against 11 when LRN
//! was added (then infer/rules.rs, runtime/cpu/mod.rs and runtime/cpu/normalize.rs held its shape
//! and CPU arms, and both convert/mod.rs and convert/reduce.rs its import). A new family adds `src/graph/registry/<family>.rs`
//! and its [`Family`] variant and [`Family::spec`] arm here; the compiler then asks for its arm in
//! the importer's `converter` (`src/import/onnx/convert/mod.rs`). What is no longer written twice:
//! an op type's opset and outputs (here only, not in an importer table and a supported-ops list),
//! and the per-op arms of shape inference and the CPU evaluator, which are the family's.

mod backward;
mod conv;
mod convert;
mod elementwise;
mod indexing;
mod layout;
mod matmul;
mod normalization;
mod pool;
mod quantize;
mod quantized_elementwise;
mod quantized_pool;
mod reduce;
mod resize;
#[cfg(test)]
mod tests;

pub use backward::{BackwardArgs, BackwardRule};

use crate::error::{Error, Result};
use crate::graph::infer::rules::NodeInputs;
use crate::graph::infer::ValueType;
use crate::graph::{Node, Op};
use crate::tensor::HostTensor;

/// A group of ops with one home in [`crate::ops`] and one [`FamilySpec`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Unary math and activations, binary and variadic arithmetic, Clip.
    Elementwise,
    /// Where, comparisons, Not, Cast.
    Convert,
    /// MatMul, Gemm, MatMulInteger.
    Matmul,
    /// Conv, ConvTranspose.
    Conv,
    /// QLinearConv, QuantizeLinear, DequantizeLinear.
    Quantize,
    /// QLinearAdd / QLinearMul, QLinearConcat, LookupTable: the integer ops between quantized
    /// layers, made by the QDQ lowering.
    QuantizedElementwise,
    /// MaxPool, AveragePool and their global forms.
    Pool,
    /// BatchNormalization, LayerNormalization, LRN, Softmax, LogSoftmax.
    Normalization,
    /// ReduceSum / Mean / Max, ArgMax.
    Reduce,
    /// Resize (and Upsample, imported as Resize).
    Resize,
    /// Concat, Split, Slice, Transpose, Pad, Reshape, Flatten, Squeeze, Unsqueeze, Expand.
    Layout,
    /// Gather, Shape, ConstantOfShape, Range, Identity, Dropout.
    Indexing,
    /// QLinearAveragePool, QLinearGlobalAveragePool: made by the QDQ lowering.
    QuantizedPool,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 13] = [
        Family::Elementwise,
        Family::Convert,
        Family::Matmul,
        Family::Conv,
        Family::Quantize,
        Family::QuantizedElementwise,
        Family::Pool,
        Family::Normalization,
        Family::Reduce,
        Family::Resize,
        Family::Layout,
        Family::Indexing,
        Family::QuantizedPool,
    ];

    /// Whether only kiln's passes make this family's ops: they have no ONNX op type (its
    /// [`FamilySpec::onnx`] is empty), and the exporter writes each as several standard nodes.
    pub fn made_by_passes(self) -> bool {
        matches!(self, Family::QuantizedElementwise | Family::QuantizedPool)
    }

    /// This family's registry entry.
    pub fn spec(self) -> &'static FamilySpec {
        match self {
            Family::Elementwise => &elementwise::SPEC,
            Family::Convert => &convert::SPEC,
            Family::Matmul => &matmul::SPEC,
            Family::Conv => &conv::SPEC,
            Family::Quantize => &quantize::SPEC,
            Family::QuantizedElementwise => &quantized_elementwise::SPEC,
            Family::Pool => &pool::SPEC,
            Family::Normalization => &normalization::SPEC,
            Family::Reduce => &reduce::SPEC,
            Family::Resize => &resize::SPEC,
            Family::Layout => &layout::SPEC,
            Family::Indexing => &indexing::SPEC,
            Family::QuantizedPool => &quantized_pool::SPEC,
        }
    }
}

/// How many outputs an ONNX node of an op type declares, and which kiln computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnnxOutputs {
    /// Exactly one.
    One,
    /// One computed, up to this many declared (the rest must be unread).
    FirstOf(usize),
    /// Any number, all computed (Split).
    All,
}

/// One ONNX op type (domain `ai.onnx`) a family imports.
#[derive(Clone, Copy, Debug)]
pub struct OnnxOp {
    /// The ONNX `op_type`.
    pub op_type: &'static str,
    /// The first opset that defines it.
    pub since_opset: i64,
    /// Its outputs.
    pub outputs: OnnxOutputs,
}

impl OnnxOp {
    /// An op type with one output.
    const fn one(op_type: &'static str, since_opset: i64) -> OnnxOp {
        OnnxOp {
            op_type,
            since_opset,
            outputs: OnnxOutputs::One,
        }
    }

    /// An op type with one computed output of up to `declared`.
    const fn first_of(op_type: &'static str, since_opset: i64, declared: usize) -> OnnxOp {
        OnnxOp {
            op_type,
            since_opset,
            outputs: OnnxOutputs::FirstOf(declared),
        }
    }
}

/// The output dtypes and shapes of a node of the family, from its operands.
pub(crate) type ShapeRule = fn(&NodeInputs<'_>) -> Result<Vec<ValueType>>;

/// The CPU reference of a node of the family: its outputs from its inputs (`None`: omitted).
pub type CpuRule = fn(&Node, &[Option<&HostTensor>]) -> Result<Vec<HostTensor>>;

/// A family's registry entry.
pub struct FamilySpec {
    /// The family's name, as its files are named.
    pub name: &'static str,
    /// The ONNX op types it imports.
    pub onnx: &'static [OnnxOp],
    /// Its shape and dtype rule.
    pub(crate) shape: ShapeRule,
    /// Its CPU reference.
    pub cpu: CpuRule,
    /// Its backward rule, when it has one.
    pub backward: Option<BackwardRule>,
}

/// The family importing ONNX op type `op_type`, with its entry.
pub fn onnx_op(op_type: &str) -> Option<(Family, &'static OnnxOp)> {
    Family::ALL.into_iter().find_map(|family| {
        let entry = family.spec().onnx.iter().find(|op| op.op_type == op_type)?;
        Some((family, entry))
    })
}

/// Every ONNX op type the registry imports.
pub fn onnx_op_types() -> impl Iterator<Item = &'static str> {
    Family::ALL
        .into_iter()
        .flat_map(|family| family.spec().onnx.iter().map(|op| op.op_type))
}

/// The error a family's rule returns for an op [`Op::family`] did not assign to it.
fn not_in_family(node: &Node, family: &str) -> Error {
    Error::Unsupported {
        location: node.location(),
        detail: format!("{} is not an op of the {family} family", node.op.name()),
    }
}

impl Op {
    /// The family this op belongs to: the one exhaustive match from ops to families.
    pub fn family(&self) -> Family {
        match self {
            Op::Unary(_) | Op::Binary(_) | Op::Variadic(_) | Op::Clip => Family::Elementwise,
            Op::Where | Op::Compare(_) | Op::Not | Op::Cast { .. } => Family::Convert,
            Op::MatMul { .. } | Op::Gemm { .. } | Op::MatMulInteger => Family::Matmul,
            Op::Conv(_) | Op::ConvTranspose(_) => Family::Conv,
            Op::QLinearConv(_) | Op::QuantizeLinear { .. } | Op::DequantizeLinear { .. } => {
                Family::Quantize
            }
            Op::DynamicQuantizeLinear | Op::QLinearMatMul { .. } => Family::Quantize,
            Op::QLinearBinary { .. } | Op::QLinearConcat { .. } | Op::LookupTable { .. } => {
                Family::QuantizedElementwise
            }
            Op::MaxPool(_) | Op::AveragePool(_) | Op::GlobalAveragePool | Op::GlobalMaxPool => {
                Family::Pool
            }
            Op::QLinearAveragePool(_) | Op::QLinearGlobalAveragePool => Family::QuantizedPool,
            Op::BatchNormalization { .. }
            | Op::LayerNormalization { .. }
            | Op::Lrn(_)
            | Op::Softmax { .. }
            | Op::LogSoftmax { .. } => Family::Normalization,
            Op::Reduce { .. } | Op::ArgMax { .. } => Family::Reduce,
            Op::Resize(_) => Family::Resize,
            Op::Concat { .. }
            | Op::Split { .. }
            | Op::Slice
            | Op::Transpose { .. }
            | Op::Pad { .. }
            | Op::Reshape { .. }
            | Op::Flatten { .. }
            | Op::Squeeze
            | Op::Unsqueeze
            | Op::Expand => Family::Layout,
            Op::Gather { .. }
            | Op::Shape { .. }
            | Op::ConstantOfShape { .. }
            | Op::Range
            | Op::Identity
            | Op::Dropout => Family::Indexing,
        }
    }
}
