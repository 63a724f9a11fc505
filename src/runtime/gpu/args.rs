//! A node's operands as the GPU backend sees them: device tensors for the inputs a kernel reads,
//! host values for the initializers that set a kernel's parameters (shapes, axes, scales, bounds),
//! and the errors that name the node when either is missing or of a dtype the GPU lacks.

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::graph::Node;
use crate::tensor::{DType, GpuTensor, HostTensor, TensorData};

/// The host values of a node's initializer inputs (`values[i]` for input `i`), and the errors
/// that name the node.
pub(super) struct Constants<'a> {
    node: &'a Node,
    values: &'a [Option<&'a HostTensor>],
}

impl<'a> Constants<'a> {
    /// The initializer values of `node`'s inputs.
    pub fn new(node: &'a Node, values: &'a [Option<&'a HostTensor>]) -> Self {
        Constants { node, values }
    }

    /// The slice this view was made from.
    pub fn values(&self) -> &'a [Option<&'a HostTensor>] {
        self.values
    }

    /// The host value of input `index` when it is an initializer; `None` when the node omits
    /// it; an [`Error::Unsupported`] naming `what` when it is computed at run time.
    pub fn constant(&self, index: usize, what: &str) -> Result<Option<&'a HostTensor>> {
        if self.node.input(index).is_none() {
            return Ok(None);
        }
        match self.values.get(index).copied().flatten() {
            Some(host) => Ok(Some(host)),
            None => Err(self.unsupported(format!(
                "dynamic {what} on the GPU; shapes are bound at Plan time so this only happens \
                 for data-dependent shapes"
            ))),
        }
    }

    /// The integers of constant input `index` (shape, axes, pads, starts), if the node has it.
    pub fn ints(&self, index: usize, what: &str) -> Result<Option<Vec<i64>>> {
        let Some(host) = self.constant(index, what)? else {
            return Ok(None);
        };
        host.to_i64_vec("runtime::gpu::eval_node")
            .map(Some)
            .map_err(|_| self.invalid(format!("{what} must be integers, got {}", host.dtype())))
    }

    /// The values of constant input `index` as f32 (scales, BatchNorm statistics).
    pub fn floats(&self, index: usize, what: &str) -> Result<Option<Vec<f32>>> {
        let Some(host) = self.constant(index, what)? else {
            return Ok(None);
        };
        match host.data() {
            TensorData::F32(values) => Ok(Some(values.clone())),
            TensorData::F16(values) => Ok(Some(values.iter().map(|v| v.to_f32()).collect())),
            _ => Err(self.invalid(format!("{what} must be floats, got {}", host.dtype()))),
        }
    }

    /// The single value of an optional scalar constant input `index`, as f64.
    pub fn scalar(&self, index: usize, what: &str) -> Result<Option<f64>> {
        let Some(host) = self.constant(index, what)? else {
            return Ok(None);
        };
        match host.to_f64_vec().as_slice() {
            [value] => Ok(Some(*value)),
            _ => Err(self.invalid(format!(
                "{what} must hold one value, got shape {:?}",
                host.shape()
            ))),
        }
    }

    /// An [`Error::Unsupported`] at this node.
    pub fn unsupported(&self, detail: String) -> Error {
        Error::Unsupported {
            location: self.node.location(),
            detail,
        }
    }

    /// An [`Error::InvalidModel`] at this node.
    pub fn invalid(&self, detail: String) -> Error {
        Error::InvalidModel {
            location: self.node.location(),
            detail,
        }
    }
}

/// One node's operands: `inputs[i]` is the device tensor of input `i`; the node's constants are
/// reached through `Deref` ([`Constants`]).
pub(super) struct Args<'a> {
    pub gpu: &'a Gpu,
    pub node: &'a Node,
    inputs: &'a [Option<&'a GpuTensor>],
    constants: Constants<'a>,
}

impl<'a> std::ops::Deref for Args<'a> {
    type Target = Constants<'a>;

    fn deref(&self) -> &Constants<'a> {
        &self.constants
    }
}

impl<'a> Args<'a> {
    /// The operands of `node`, after checking that both slices have one entry per input.
    pub fn new(
        gpu: &'a Gpu,
        node: &'a Node,
        inputs: &'a [Option<&'a GpuTensor>],
        constants: &'a [Option<&'a HostTensor>],
    ) -> Result<Self> {
        let expected = node.inputs.len();
        if inputs.len() != expected || constants.len() != expected {
            return Err(Error::InvalidArgument {
                op: "runtime::gpu::eval_node",
                detail: format!(
                    "{} has {expected} inputs but was given {} tensors and {} constants",
                    node.location(),
                    inputs.len(),
                    constants.len()
                ),
            });
        }
        Ok(Args {
            gpu,
            node,
            inputs,
            constants: Constants::new(node, constants),
        })
    }

    /// How many inputs the node lists (omitted optional ones included).
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// The device tensor of input `index`, if the node has it.
    pub fn optional_tensor(&self, index: usize) -> Result<Option<&'a GpuTensor>> {
        if self.node.input(index).is_none() {
            return Ok(None);
        }
        match self.inputs.get(index).copied().flatten() {
            Some(tensor) => Ok(Some(tensor)),
            None => Err(Error::InvalidArgument {
                op: "runtime::gpu::eval_node",
                detail: format!(
                    "{}: input {index} ('{}') was not given as a device tensor",
                    self.node.location(),
                    self.node.input(index).unwrap_or_default()
                ),
            }),
        }
    }

    /// The device tensor of required input `index`.
    pub fn tensor(&self, index: usize) -> Result<&'a GpuTensor> {
        self.optional_tensor(index)?
            .ok_or_else(|| self.invalid(format!("required input {index} is missing")))
    }

    /// The device tensor of required input `index`, which must hold one of `dtypes`.
    pub fn tensor_of(&self, index: usize, dtypes: &[DType]) -> Result<&'a GpuTensor> {
        let tensor = self.tensor(index)?;
        self.check_dtype(tensor.dtype(), dtypes)?;
        Ok(tensor)
    }

    /// Fails with [`Error::Unsupported`] naming the node unless `dtype` is one of `dtypes`.
    pub fn check_dtype(&self, dtype: DType, dtypes: &[DType]) -> Result<()> {
        if dtypes.contains(&dtype) {
            return Ok(());
        }
        let names: Vec<&str> = dtypes.iter().map(|dtype| dtype.name()).collect();
        Err(self.unsupported(format!(
            "{dtype} tensors on the GPU (its kernels for this op take {})",
            names.join(", ")
        )))
    }
}

/// A tensor a launcher reads: the caller's, or one made for the call (a copy under another shape,
/// a broadcast). Launchers take `&GpuTensor`; this holds whichever exists.
pub(super) enum Operand<'a> {
    /// The caller's tensor, unchanged.
    Borrowed(&'a GpuTensor),
    /// A tensor made for this call.
    Owned(GpuTensor),
}

impl Operand<'_> {
    /// The tensor.
    pub fn get(&self) -> &GpuTensor {
        match self {
            Operand::Borrowed(tensor) => tensor,
            Operand::Owned(tensor) => tensor,
        }
    }
}
