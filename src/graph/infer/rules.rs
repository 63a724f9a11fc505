//! The shape and dtype rule of every [`Op`]: [`output_types`] dispatches to the op families
//! (element-wise and matrix ops in `math`, convolutions, pools and Resize in `spatial`, layout
//! ops in `layout`), each reading its operands through [`NodeInputs`].

use super::{layout, math, spatial, ValueType};
use crate::error::{Error, Result};
use crate::graph::{Node, Op};
use crate::tensor::{DType, HostTensor};

/// One present input of a node: its type, and its value when inference knows it.
pub(super) struct Operand<'a> {
    /// The inferred type.
    pub ty: &'a ValueType,
    /// The value, for initializers and known constants.
    pub value: Option<&'a HostTensor>,
}

/// A node with its operands, and accessors whose errors name the node.
pub(super) struct NodeInputs<'a> {
    /// The node.
    pub node: &'a Node,
    operands: &'a [Option<Operand<'a>>],
}

impl<'a> NodeInputs<'a> {
    pub fn new(node: &'a Node, operands: &'a [Option<Operand<'a>>]) -> Self {
        NodeInputs { node, operands }
    }

    /// An [`Error::InvalidModel`] at this node.
    pub fn error(&self, detail: String) -> Error {
        Error::InvalidModel {
            location: self.node.location(),
            detail,
        }
    }

    /// A shape helper's error, relocated to this node.
    pub fn at_node(&self, error: Error) -> Error {
        match error {
            Error::InvalidModel { .. } | Error::Unsupported { .. } => error,
            other => self.error(other.to_string()),
        }
    }

    /// An [`Error::Unsupported`] at this node.
    pub fn unsupported(&self, detail: String) -> Error {
        Error::Unsupported {
            location: self.node.location(),
            detail,
        }
    }

    /// The number of input slots (present or omitted).
    pub fn len(&self) -> usize {
        self.operands.len()
    }

    /// Input `index` when present.
    pub fn optional(&self, index: usize) -> Option<&'a Operand<'a>> {
        self.operands.get(index).and_then(Option::as_ref)
    }

    /// Input `index`, an error when omitted.
    pub fn required(&self, index: usize) -> Result<&'a Operand<'a>> {
        self.optional(index)
            .ok_or_else(|| self.error(format!("input {index} is required")))
    }

    /// The shape of input `index`.
    pub fn shape(&self, index: usize) -> Result<&'a [usize]> {
        Ok(&self.required(index)?.ty.shape)
    }

    /// The dtype of input `index`.
    pub fn dtype(&self, index: usize) -> Result<DType> {
        Ok(self.required(index)?.ty.dtype)
    }

    /// The value of input `index` (`what` names it in errors): `None` when omitted, an
    /// [`Error::Unsupported`] when present but not known before run time.
    pub fn value(&self, index: usize, what: &str) -> Result<Option<&'a HostTensor>> {
        let Some(operand) = self.optional(index) else {
            return Ok(None);
        };
        let name = self.node.input(index).unwrap_or_default();
        operand.value.map(Some).ok_or_else(|| {
            self.unsupported(format!(
                "the output shape depends on the value of {what} '{name}', which is only known \
                 at run time (kiln needs it to be a constant or computable from the input shapes)"
            ))
        })
    }

    /// The integer value of input `index`, as [`NodeInputs::value`].
    pub fn ints(&self, index: usize, what: &str) -> Result<Option<Vec<i64>>> {
        self.value(index, what)?
            .map(|tensor| {
                tensor
                    .to_i64_vec("shape inference")
                    .map_err(|e| self.at_node(e))
            })
            .transpose()
    }

    /// The integer value of a required input `index`.
    pub fn required_ints(&self, index: usize, what: &str) -> Result<Vec<i64>> {
        self.required(index)?;
        Ok(self.ints(index, what)?.unwrap_or_default())
    }

    /// Non-negative integers from input `index` as extents.
    pub fn extents(&self, index: usize, what: &str) -> Result<Vec<usize>> {
        let values = self.required_ints(index, what)?;
        values
            .iter()
            .map(|&value| usize::try_from(value))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| self.error(format!("{what} {values:?} has a negative extent")))
    }

    /// Every input's value when all present inputs are known constants.
    pub fn all_values(&self) -> Option<Vec<Option<&'a HostTensor>>> {
        self.operands
            .iter()
            .map(|operand| match operand {
                None => Some(None),
                Some(operand) => operand.value.map(Some),
            })
            .collect()
    }

    /// Checks that the inputs at `indices` (those present) share one dtype, and returns it.
    pub fn same_dtype(&self, indices: impl IntoIterator<Item = usize>) -> Result<DType> {
        let mut dtypes = indices.into_iter().filter_map(|index| {
            self.optional(index)
                .map(|operand| (index, operand.ty.dtype))
        });
        let (_, first) = dtypes
            .next()
            .ok_or_else(|| self.error("has no inputs".into()))?;
        if let Some((index, other)) = dtypes.find(|(_, dtype)| *dtype != first) {
            return Err(self.error(format!(
                "input {index} is {other} but input 0 is {first}; they must match"
            )));
        }
        Ok(first)
    }
}

/// The types of `inputs.node`'s outputs, in order.
pub(super) fn output_types(inputs: &NodeInputs<'_>) -> Result<Vec<ValueType>> {
    let one = |dtype: DType, shape: Vec<usize>| Ok(vec![ValueType::new(dtype, shape)]);
    let node = inputs.node;
    match &node.op {
        Op::Unary(_)
        | Op::Clip
        | Op::Identity
        | Op::Softmax { .. }
        | Op::LogSoftmax { .. }
        | Op::BatchNormalization { .. }
        | Op::LayerNormalization { .. }
        | Op::Lrn(_) => one(inputs.dtype(0)?, inputs.shape(0)?.to_vec()),
        Op::Dropout => {
            let data = ValueType::new(inputs.dtype(0)?, inputs.shape(0)?.to_vec());
            let mask = ValueType::new(DType::Bool, data.shape.clone());
            Ok([data, mask].into_iter().take(node.outputs.len()).collect())
        }
        Op::Not => one(DType::Bool, inputs.shape(0)?.to_vec()),
        Op::Cast { to } => one(*to, inputs.shape(0)?.to_vec()),
        Op::QuantizeLinear { .. } => {
            let dtype = inputs.optional(2).map_or(DType::U8, |zero| zero.ty.dtype);
            one(dtype, inputs.shape(0)?.to_vec())
        }
        Op::DequantizeLinear { .. } => one(inputs.dtype(1)?, inputs.shape(0)?.to_vec()),
        Op::Binary(crate::ops::elementwise::BinaryOp::Pow) => {
            one(inputs.dtype(0)?, math::broadcast(inputs, 0..2)?)
        }
        Op::Binary(_) | Op::Variadic(_) => {
            let count = inputs.len();
            one(
                inputs.same_dtype(0..count)?,
                math::broadcast(inputs, 0..count)?,
            )
        }
        Op::Compare(_) => {
            inputs.same_dtype(0..2)?;
            one(DType::Bool, math::broadcast(inputs, 0..2)?)
        }
        Op::Where => one(inputs.same_dtype(1..3)?, math::broadcast(inputs, 0..3)?),
        Op::MatMul { .. } => one(inputs.same_dtype(0..2)?, math::matmul(inputs)?),
        Op::MatMulInteger => one(DType::I32, math::matmul(inputs)?),
        Op::Gemm { .. } => one(inputs.same_dtype(0..3)?, math::gemm(inputs)?),
        Op::Reduce { .. } => one(inputs.dtype(0)?, math::reduce(inputs)?),
        Op::ArgMax { axis, keepdims, .. } => {
            one(DType::I64, math::arg_max(inputs, *axis, *keepdims)?)
        }
        Op::Conv(attrs) => one(inputs.dtype(0)?, spatial::conv(inputs, attrs, 1)?),
        Op::QLinearConv(attrs) => one(inputs.dtype(7)?, spatial::conv(inputs, attrs, 3)?),
        Op::ConvTranspose(attrs) => one(inputs.dtype(0)?, spatial::conv_transpose(inputs, attrs)?),
        Op::MaxPool(attrs) | Op::AveragePool(attrs) => {
            one(inputs.dtype(0)?, spatial::pool(inputs, attrs)?)
        }
        Op::GlobalAveragePool | Op::GlobalMaxPool => {
            one(inputs.dtype(0)?, spatial::global_pool(inputs)?)
        }
        Op::Resize(attrs) => one(inputs.dtype(0)?, spatial::resize(inputs, attrs)?),
        Op::Concat { axis } => {
            let count = inputs.len();
            one(inputs.same_dtype(0..count)?, layout::concat(inputs, *axis)?)
        }
        Op::Split { axis, num_outputs } => layout::split(inputs, *axis, *num_outputs),
        Op::Slice => one(inputs.dtype(0)?, layout::slice(inputs)?),
        Op::Transpose { perm } => one(inputs.dtype(0)?, layout::transpose(inputs, perm)?),
        Op::Pad { mode } => one(inputs.dtype(0)?, layout::pad(inputs, *mode)?),
        Op::Reshape { allowzero } => one(inputs.dtype(0)?, layout::reshape(inputs, *allowzero)?),
        Op::Flatten { axis } => one(inputs.dtype(0)?, layout::flatten(inputs, *axis)?),
        Op::Squeeze => one(inputs.dtype(0)?, layout::squeeze(inputs)?),
        Op::Unsqueeze => one(inputs.dtype(0)?, layout::unsqueeze(inputs)?),
        Op::Expand => one(inputs.dtype(0)?, layout::expand(inputs)?),
        Op::Gather { axis } => one(inputs.dtype(0)?, layout::gather(inputs, *axis)?),
        Op::Shape { start, end } => {
            let (start, end) = super::shape_range(inputs.shape(0)?.len(), *start, *end);
            one(DType::I64, vec![end.saturating_sub(start)])
        }
        Op::ConstantOfShape { value } => {
            one(value.dtype(), layout::constant_of_shape(inputs, value)?)
        }
        Op::Range => one(inputs.same_dtype(0..3)?, layout::range(inputs)?),
    }
}
