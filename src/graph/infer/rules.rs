//! What a shape and dtype rule reads: a node's operands through [`NodeInputs`], whose errors name
//! the node. The rules themselves are the op families' (`crate::graph::registry`), built on the
//! shape helpers beside this file (element-wise and matrix ops in `math`, convolutions, pools
//! and Resize in `spatial`, layout ops in `layout`).

use super::ValueType;
use crate::error::{Error, Result};
use crate::graph::Node;
use crate::tensor::{DType, HostTensor};

/// One present input of a node: its type, and its value when inference knows it.
pub(crate) struct Operand<'a> {
    /// The inferred type.
    pub ty: &'a ValueType,
    /// The value, for initializers and known constants.
    pub value: Option<&'a HostTensor>,
}

/// A node with its operands, and accessors whose errors name the node.
pub(crate) struct NodeInputs<'a> {
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

/// One output of `dtype` and `shape`: what most shape rules return.
pub(crate) fn one(dtype: DType, shape: Vec<usize>) -> Result<Vec<ValueType>> {
    Ok(vec![ValueType::new(dtype, shape)])
}
