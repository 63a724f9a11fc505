//! Packed weights on the GPU: each [`PackedWeight`] uploaded once in its compressed device layout
//! ([`upload_packed`]), and the nodes that read one lowered onto the weight kernels
//! ([`eval_packed`]): int8 weight-only ([`matmul_w8`]), int4 ([`matmul_q4`]), block-sparse
//! ([`bsr_matmul`]) and N:M ([`nm_matmul`]), which all compute `act(X·Wᵀ + bias)` with `X` `[M,
//! K]` or `[batch, M, K]`, so the node's fused activation and a Gemm's `C` of `N` values (a Conv's
//! bias) run in the kernel's epilogue.
//!
//! - MatMul / Gemm: the activations are `X` and the packed `B` is `W` (or `Wᵀ`).
//! - Conv with an int8 or int4 `W`, any group count: the f32 implicit GEMM with an int8 or int4
//!   weight loader ([`conv2d_w8`], [`conv2d_w4`]), dequantized in registers like the matmuls'.
//! - Conv with one group and a BSR or N:M `W`: `X` is the input's im2col patch matrix
//!   `[N·OH·OW, C·kH·kW]`, built in slabs that fit a binding, and each slab's product is copied
//!   back to NCHW ([`conv2d_im2col`]). Strides, pads, dilations and any kernel shape are the
//!   im2col's.
//!
//! What does not run compressed says so: a grouped or depthwise Conv's BSR or N:M `W` is
//! uploaded dense (the weight kernels take one `[M, K]` matrix) with a warning naming the node;
//! Gemms the epilogue cannot express (`transA`, `alpha ≠ 1`, a `C` that is not one value per
//! output) and activations of rank above 3 are an [`Error::Unsupported`] naming the node.

use std::collections::HashMap;

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::graph::{ConvAttrs, Graph, Node, Op, PackedMatrix, PackedWeight};
use crate::ops::conv::{conv2d_im2col, conv2d_w4, conv2d_w8, Conv2dParams, ConvGeometry};
use crate::ops::matmul::int4::{matmul_q4, GpuQ4Weights};
use crate::ops::matmul::int8::GpuQ8Weights;
use crate::ops::matmul::w8a32::matmul_w8;
use crate::ops::sparse::bsr::{bsr_matmul, GpuBsrMatrix};
use crate::ops::sparse::nm::{nm_matmul, GpuNmMatrix};
use crate::ops::Activation;
use crate::runtime::gpu::upload;
use crate::tensor::GpuTensor;

/// A packed matrix `W` `[N, K]` in the layout its weight kernel reads.
pub enum DeviceMatrix {
    /// Int8 rows with a scale and zero point each, read by the weight-only int8 kernels.
    Q8(GpuQ8Weights),
    /// Int4 groups, read by the int4 matmul kernels.
    Q4(GpuQ4Weights),
    /// Block-sparse rows.
    Bsr(GpuBsrMatrix),
    /// N:M sparse rows.
    NmSparse(GpuNmMatrix),
}

impl DeviceMatrix {
    /// Uploads `matrix` in its own layout.
    pub fn upload(gpu: &Gpu, matrix: &PackedMatrix) -> Result<Self> {
        Ok(match matrix {
            PackedMatrix::Q8 { weights, .. } => {
                DeviceMatrix::Q8(GpuQ8Weights::upload(gpu, weights)?)
            }
            PackedMatrix::Q4(weights) => DeviceMatrix::Q4(GpuQ4Weights::upload(gpu, weights)?),
            PackedMatrix::Bsr(matrix) => DeviceMatrix::Bsr(GpuBsrMatrix::upload(gpu, matrix)?),
            PackedMatrix::NmSparse(matrix) => {
                DeviceMatrix::NmSparse(GpuNmMatrix::upload(gpu, matrix)?)
            }
        })
    }

    /// `act(x·Wᵀ + bias)` on this layout's kernel, for `x` `[M, K]` or `[batch, M, K]`.
    pub fn product(
        &self,
        gpu: &Gpu,
        x: &GpuTensor,
        bias: Option<&GpuTensor>,
        activation: Activation,
    ) -> Result<GpuTensor> {
        match self {
            DeviceMatrix::Q8(w) => matmul_w8(gpu, x, w, bias, activation),
            DeviceMatrix::Q4(w) => matmul_q4(gpu, x, w, bias, activation),
            DeviceMatrix::Bsr(w) => bsr_matmul(gpu, x, w, bias, activation),
            DeviceMatrix::NmSparse(w) => nm_matmul(gpu, x, w, bias, activation),
        }
    }

    /// The bytes the matrix holds on the device, every array of its layout counted.
    pub fn device_bytes(&self) -> u64 {
        match self {
            DeviceMatrix::Q8(w) => w.device_bytes(),
            DeviceMatrix::Q4(w) => w.device_bytes(),
            DeviceMatrix::Bsr(w) => w.device_bytes(),
            DeviceMatrix::NmSparse(w) => w.device_bytes(),
        }
    }
}

/// A packed weight as the GPU holds it.
pub enum DeviceWeight {
    /// A MatMul or Gemm `B`, run by its weight kernel.
    Matrix(DeviceMatrix),
    /// A Conv's `W` `[M, C/groups, kH, kW]` as the matrix `[M, C/groups·kH·kW]`: int8 and int4
    /// run by the implicit GEMM's loaders, BSR and N:M (one group only) by the im2col path.
    Conv {
        /// `W` in its packed layout.
        matrix: DeviceMatrix,
        /// The logical weight shape `[M, C, kH, kW]`.
        shape: Vec<usize>,
    },
    /// The logical tensor, dequantized: for readers with no kernel for the layout (logged).
    Dense(GpuTensor),
}

impl DeviceWeight {
    /// The bytes the weight holds on the device.
    pub fn device_bytes(&self) -> u64 {
        match self {
            DeviceWeight::Matrix(matrix) | DeviceWeight::Conv { matrix, .. } => {
                matrix.device_bytes()
            }
            DeviceWeight::Dense(dense) => dense.buffer().len_bytes(),
        }
    }
}

/// Uploads every packed weight of `graph` once, in the layout its readers run: a MatMul or Gemm
/// `B`, a Conv's int8 or int4 `W` and a one-group Conv's other `W` in its packed layout, a
/// grouped Conv's BSR or N:M `W` dense (with a warning).
pub fn upload_packed(gpu: &Gpu, graph: &Graph) -> Result<HashMap<String, DeviceWeight>> {
    let mut uploaded = HashMap::new();
    for node in &graph.nodes {
        let Some((name, weight)) = packed_input(graph, node) else {
            continue;
        };
        if uploaded.contains_key(name) {
            continue;
        }
        let device_weight = match &node.op {
            Op::Conv(attrs) if attrs.group > 1 && !is_quantized(&weight.matrix) => {
                log::warn!(
                    "{}: its {} weight '{name}' runs dense on the GPU (a convolution of {} \
                     groups; the im2col path runs one); it is dequantized once at Plan time",
                    node.location(),
                    weight.matrix.layout_name(),
                    attrs.group
                );
                DeviceWeight::Dense(upload(gpu, &weight.to_dense()?)?)
            }
            Op::Conv(_) => DeviceWeight::Conv {
                matrix: DeviceMatrix::upload(gpu, &weight.matrix)?,
                shape: weight.shape.clone(),
            },
            _ => DeviceWeight::Matrix(DeviceMatrix::upload(gpu, &weight.matrix)?),
        };
        uploaded.insert(name.to_string(), device_weight);
    }
    Ok(uploaded)
}

/// Whether `matrix` is int8 or int4, which convolutions of any group count read in place.
fn is_quantized(matrix: &PackedMatrix) -> bool {
    matches!(matrix, PackedMatrix::Q8 { .. } | PackedMatrix::Q4(_))
}

/// The packed weight `node` reads (always its input 1), with its name.
pub fn packed_input<'g>(graph: &'g Graph, node: &Node) -> Option<(&'g str, &'g PackedWeight)> {
    let name = node.input(1)?;
    graph
        .packed_weights
        .get_key_value(name)
        .map(|(name, weight)| (name.as_str(), weight))
}

/// Runs `node` (a MatMul, Gemm or Conv) with the packed `weight` as its input 1 and its other
/// inputs `inputs` (`inputs[0]` the activations, `inputs[2]` a Gemm's `C` or a Conv's bias) on the
/// weight's kernel.
pub fn eval_packed(
    gpu: &Gpu,
    node: &Node,
    inputs: &[Option<&GpuTensor>],
    weight: &DeviceWeight,
) -> Result<GpuTensor> {
    let unsupported = |detail: String| Error::Unsupported {
        location: node.location(),
        detail,
    };
    let x = inputs
        .first()
        .copied()
        .flatten()
        .ok_or_else(|| Error::InvalidModel {
            location: node.location(),
            detail: "input 0 is required".into(),
        })?;
    match (weight, &node.op) {
        (DeviceWeight::Conv { matrix, shape }, Op::Conv(attrs)) => {
            let bias = inputs.get(2).copied().flatten();
            eval_packed_conv(gpu, node, attrs, (x, bias), matrix, shape)
        }
        (DeviceWeight::Matrix(matrix), _) => {
            if !(2..=3).contains(&x.shape().len()) {
                return Err(unsupported(format!(
                    "activations of shape {:?} with a packed weight (the weight kernels take \
                     [M, K] or [batch, M, K])",
                    x.shape()
                )));
            }
            let (bias, activation) = epilogue(node, inputs).map_err(unsupported)?;
            matrix.product(gpu, x, bias, activation)
        }
        _ => Err(unsupported(format!(
            "a {} weight reached the packed lowering of a {}",
            match weight {
                DeviceWeight::Dense(_) => "dense",
                _ => "packed",
            },
            node.op.name()
        ))),
    }
}

/// A Conv of `x` (with `bias`) by the packed `matrix` of logical shape `shape`: an int8 or int4
/// weight on the implicit GEMM's loaders, BSR and N:M (one group) through the im2col path; the
/// attributes resolved by the conv geometry resolver.
fn eval_packed_conv(
    gpu: &Gpu,
    node: &Node,
    attrs: &ConvAttrs,
    (x, bias): (&GpuTensor, Option<&GpuTensor>),
    matrix: &DeviceMatrix,
    shape: &[usize],
) -> Result<GpuTensor> {
    if x.shape().len() != 4 {
        return Err(Error::Unsupported {
            location: node.location(),
            detail: format!(
                "input of shape {:?} with a packed weight: the GPU runs 2-D (NCHW) convolutions",
                x.shape()
            ),
        });
    }
    let geometry = ConvGeometry::forward(&attrs.spec(), x.shape(), shape)?;
    let params = Conv2dParams::from_geometry(&geometry).ok_or_else(|| Error::InvalidModel {
        location: node.location(),
        detail: format!("the 2-D convolution launcher cannot take geometry {geometry:?}"),
    })?;
    match matrix {
        DeviceMatrix::Q8(w) => return conv2d_w8(gpu, x, w, shape, bias, &params, attrs.activation),
        DeviceMatrix::Q4(w) => return conv2d_w4(gpu, x, w, shape, bias, &params, attrs.activation),
        DeviceMatrix::Bsr(_) | DeviceMatrix::NmSparse(_) => {}
    }
    let product = |patches: &GpuTensor, bias: Option<&GpuTensor>, activation: Activation| {
        matrix.product(gpu, patches, bias, activation)
    };
    conv2d_im2col(gpu, x, shape, bias, &params, attrs.activation, &product)
}

/// The bias and activation the kernel's epilogue applies for MatMul or Gemm `node`, or why it
/// cannot.
fn epilogue<'t>(
    node: &Node,
    inputs: &[Option<&'t GpuTensor>],
) -> std::result::Result<(Option<&'t GpuTensor>, Activation), String> {
    match node.op {
        Op::MatMul { activation } => Ok((None, activation)),
        Op::Gemm {
            alpha,
            beta,
            trans_a,
            activation,
            ..
        } => {
            let bias = inputs.get(2).copied().flatten();
            if trans_a || alpha != 1.0 || (bias.is_some() && beta != 1.0) {
                return Err(format!(
                    "Gemm with transA {trans_a}, alpha {alpha}, beta {beta} and a packed B (the \
                     weight kernels compute A·Wᵀ + C)"
                ));
            }
            if let Some(c) = bias.filter(|c| c.shape().iter().rev().skip(1).any(|&d| d != 1)) {
                return Err(format!(
                    "Gemm C of shape {:?} with a packed B (the kernels add one value per output \
                     column)",
                    c.shape()
                ));
            }
            Ok((bias, activation))
        }
        _ => Err(format!("{} with a packed weight", node.op.name())),
    }
}
