//! The GPU backend: every [`crate::graph::Op`] kiln has a kernel for, launched on a [`crate::device::Gpu`].
//!
//! [`eval_node`] maps one node onto the launchers in [`crate::ops`] through one exhaustive match
//! over [`Op`] (`dispatch.rs`; a new op without a GPU arm does not compile, and the ops without a
//! kernel are listed there by name): it records dispatches into the device's pending encoder and
//! never waits, so a Plan's whole run is one command buffer. Inputs a
//! kernel reads are device tensors; inputs that set a kernel's parameters (Reshape's shape, Slice's
//! starts, Pad's pads, Resize's scales, Clip's bounds, reduce axes, BatchNorm statistics) must be
//! initializers, passed as host values ([`reads_as_constant`] says which are which).
//!
//! Dtypes: float kernels run f32, and f16 where a launcher has it (Conv, MatMul, MaxPool,
//! AveragePool); layout ops move any 1-, 2- or 4-byte dtype; booleans live on the GPU as u8 (0 or
//! 1). No kernel takes i64, so an i64 tensor input is an [`Error::Unsupported`] naming the node
//! (Gather's constant i64 indices are read from the host value, or uploaded as i32).
//! ArgMax writes i32 indices: a Plan records the graph's i64 and widens them when it reads the
//! result back ([`download`]).

mod args;
mod conv;
mod convert;
mod dense;
mod dispatch;
mod layout;
pub mod packed;
mod pointwise;
mod quantized_elementwise;
mod quantized_matmul;
mod quantized_pool;

#[cfg(test)]
pub(crate) use dispatch::NO_GPU_KERNEL;
pub use layout::{is_relabel, relabel_shape};

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::graph::{Node, Op};
use crate::ops::conv::GpuQ8ConvWeights;
use crate::tensor::{DType, GpuTensor, HostTensor, TensorData};
use args::Args;

/// Runs `node` on the GPU: `inputs[i]` is input `i` on the device (`None` when the node omits it or
/// reads it only as a constant), `constants[i]` its host value when it is an initializer. Returns
/// one tensor per node output. Nothing is submitted or read back.
///
/// Errors: [`Error::Unsupported`] for ops and dtypes without a GPU kernel and for parameters that
/// are computed at run time instead of being constant; [`Error::InvalidModel`] for missing inputs;
/// the launchers' own shape and argument errors.
pub fn eval_node(
    gpu: &Gpu,
    node: &Node,
    inputs: &[Option<&GpuTensor>],
    constants: &[Option<&HostTensor>],
) -> Result<Vec<GpuTensor>> {
    let args = Args::new(gpu, node, inputs, constants)?;
    check_binding_sizes(gpu, node, inputs)?;
    if let Some(wide) = inputs.iter().flatten().find(|t| t.dtype() == DType::I64) {
        return Err(args.unsupported(format!(
            "{} tensors on the GPU (no kernel takes them; shape arithmetic is folded by the passes)",
            wide.dtype()
        )));
    }
    let outputs = dispatch::lower(&args).map_err(|error| locate_too_large(error, node))?;
    if outputs.len() != node.outputs.len() {
        return Err(args.invalid(format!(
            "produced {} outputs, the node lists {}",
            outputs.len(),
            node.outputs.len()
        )));
    }
    Ok(outputs)
}

/// Fails with [`Error::TensorTooLarge`] when an input is larger than one storage binding and the
/// kernel binds it whole: every input except MatMul's and Gemm's B, which are bound in parts.
fn check_binding_sizes(gpu: &Gpu, node: &Node, inputs: &[Option<&GpuTensor>]) -> Result<()> {
    let splits_b = matches!(node.op, Op::MatMul { .. } | Op::Gemm { .. });
    let limit = gpu.max_binding_bytes();
    for (index, tensor) in inputs.iter().enumerate() {
        let Some(tensor) = tensor else { continue };
        if tensor.size_bytes() > limit && !(splits_b && index == 1) {
            return Err(Error::TensorTooLarge {
                location: node.location(),
                tensor: format!("input {index} '{}'", node.input(index).unwrap_or_default()),
                bytes: tensor.size_bytes(),
                limit,
            });
        }
    }
    Ok(())
}

/// A device-limit error from a kernel, located at `node`: a [`Error::TensorTooLarge`] names the
/// node and its outputs (the tensor is one of them or an intermediate its kernel makes); a
/// [`Error::LimitExceeded`] (a buffer or dispatch beyond the device) becomes an
/// [`Error::Unsupported`] at the node, as the CPU backend reports it.
fn locate_too_large(error: Error, node: &Node) -> Error {
    match error {
        Error::TensorTooLarge {
            location,
            tensor,
            bytes,
            limit,
        } => Error::TensorTooLarge {
            location: node.location(),
            tensor: format!(
                "{tensor} in {location} (the node's outputs: {})",
                node.outputs.join(", ")
            ),
            bytes,
            limit,
        },
        Error::LimitExceeded { .. } => Error::Unsupported {
            location: node.location(),
            detail: error.to_string(),
        },
        other => other,
    }
}

/// QLinearConv `node`'s constant weight (with its scales) uploaded in the int8 kernel's layout,
/// from the host values of its initializers (`constants[i]` for input `i`), so that a Plan uploads
/// it once and runs the node with [`eval_qlinear_conv`].
pub fn upload_qlinear_conv_weights(
    gpu: &Gpu,
    node: &Node,
    constants: &[Option<&HostTensor>],
) -> Result<GpuQ8ConvWeights> {
    let inputs = vec![None; node.inputs.len()];
    conv::q8_conv_weights(&Args::new(gpu, node, &inputs, constants)?)
}

/// Runs QLinearConv `node` like [`eval_node`], with its weight already uploaded
/// ([`upload_qlinear_conv_weights`]).
pub fn eval_qlinear_conv(
    gpu: &Gpu,
    node: &Node,
    inputs: &[Option<&GpuTensor>],
    constants: &[Option<&HostTensor>],
    weights: &GpuQ8ConvWeights,
) -> Result<GpuTensor> {
    let args = Args::new(gpu, node, inputs, constants)?;
    match &node.op {
        Op::QLinearConv(attrs) => conv::qlinear_conv(&args, attrs, weights),
        other => Err(args.invalid(format!("{} is not a QLinearConv", other.name()))),
    }
}

/// Whether the GPU backend reads input `index` of `op` as a host constant (a parameter of the
/// kernel) rather than as a device tensor.
pub fn reads_as_constant(op: &Op, index: usize) -> bool {
    match op {
        Op::Clip
        | Op::Reshape { .. }
        | Op::Expand
        | Op::Squeeze
        | Op::Unsqueeze
        | Op::Split { .. }
        | Op::Slice
        | Op::Pad { .. }
        | Op::Resize(_)
        | Op::Reduce { .. }
        | Op::BatchNormalization { .. } => index >= 1,
        Op::QLinearConv(_) => index != 0 && index != 8,
        Op::MatMulInteger => index == 1 || index == 3,
        Op::QLinearMatMul { .. } => !matches!(index, 0 | 2),
        Op::QLinearAveragePool(_) | Op::QLinearGlobalAveragePool => index >= 1,
        Op::QLinearBinary { .. } => index != 0 && index != 3,
        Op::QLinearConcat { .. } => index < 2 || !(index - 2).is_multiple_of(3),
        Op::ConstantOfShape { .. } | Op::Range => true,
        _ => false,
    }
}

/// The dtype the GPU backend wants initializer `index` of `op` in, for a host tensor of `dtype`:
/// booleans as u8, an f16 convolution's bias as f32 (the kernel adds it in f32), Gather's i64
/// indices as i32, others unchanged.
pub fn device_dtype(op: &Op, index: usize, dtype: DType) -> DType {
    match (op, index, dtype) {
        (_, _, DType::Bool) => DType::U8,
        (Op::Conv(_), 2, DType::F16) => DType::F32,
        (Op::Gather { .. }, 1, DType::I64) => DType::I32,
        _ => dtype,
    }
}

/// Uploads `host` as `dtype` ([`device_dtype`]): unchanged, f16 widened to f32, bool as u8, or
/// i64 narrowed to i32 (an error for a value outside i32).
pub fn upload_as(gpu: &Gpu, host: &HostTensor, dtype: DType) -> Result<GpuTensor> {
    let shape = host.shape();
    match (host.data(), dtype) {
        (TensorData::F16(values), DType::F32) => {
            let widened: Vec<f32> = values.iter().map(|v| v.to_f32()).collect();
            GpuTensor::upload(gpu, shape, &widened)
        }
        (TensorData::Bool(values), DType::U8) => {
            let bytes: Vec<u8> = values.iter().map(|&v| u8::from(v)).collect();
            GpuTensor::upload(gpu, shape, &bytes)
        }
        (TensorData::I64(values), DType::I32) => {
            let narrowed = (values.iter())
                .map(|&v| i32::try_from(v))
                .collect::<std::result::Result<Vec<i32>, _>>()
                .map_err(|_| Error::InvalidArgument {
                    op: "upload to the GPU",
                    detail: "an i64 value does not fit in i32".into(),
                })?;
            GpuTensor::upload(gpu, shape, &narrowed)
        }
        (data, dtype) if data.dtype() == dtype => upload(gpu, host),
        (data, dtype) => Err(Error::DTypeMismatch {
            op: "upload to the GPU",
            expected: dtype,
            got: data.dtype(),
        }),
    }
}

/// Uploads `host` in its own dtype (booleans as u8).
pub fn upload(gpu: &Gpu, host: &HostTensor) -> Result<GpuTensor> {
    let shape = host.shape();
    match host.data() {
        TensorData::F32(values) => GpuTensor::upload(gpu, shape, values),
        TensorData::F16(values) => GpuTensor::upload(gpu, shape, values),
        TensorData::I8(values) => GpuTensor::upload(gpu, shape, values),
        TensorData::U8(values) => GpuTensor::upload(gpu, shape, values),
        TensorData::I32(values) => GpuTensor::upload(gpu, shape, values),
        TensorData::I64(values) => GpuTensor::upload(gpu, shape, values),
        TensorData::Bool(_) => upload_as(gpu, host, DType::U8),
    }
}

/// Reads `tensor` back as a host tensor of `dtype`: its own dtype, or i32 widened to i64 (ArgMax's
/// indices), or u8 as bool. Submits pending work and waits for it.
pub fn download(gpu: &Gpu, tensor: &GpuTensor, dtype: DType) -> Result<HostTensor> {
    let bytes = gpu.read_bytes(tensor.buffer())?;
    let data = HostTensor::from_le_bytes(tensor.shape(), tensor.dtype(), &bytes)?.into_data();
    let data = match (data, dtype) {
        (data, dtype) if data.dtype() == dtype => data,
        (TensorData::I32(values), DType::I64) => {
            TensorData::I64(values.into_iter().map(i64::from).collect())
        }
        (TensorData::U8(values), DType::Bool) => {
            TensorData::Bool(values.into_iter().map(|v| v != 0).collect())
        }
        (data, dtype) => {
            return Err(Error::DTypeMismatch {
                op: "runtime::gpu::download",
                expected: dtype,
                got: data.dtype(),
            })
        }
    };
    HostTensor::new(tensor.shape(), data)
}
