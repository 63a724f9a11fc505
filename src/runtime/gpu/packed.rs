//! Packed weights on the GPU: each [`PackedWeight`] uploaded once in its device layout
//! ([`upload_packed`]), and MatMul / Gemm nodes whose `B` is one lowered onto the weight kernels
//! ([`eval_packed`]): int4 ([`matmul_q4`]), block-sparse ([`bsr_matmul`]) and N:M ([`nm_matmul`]),
//! which all compute `act(X·Wᵀ + bias)` with `X` `[M, K]` or `[batch, M, K]`, so the node's fused
//! activation and a Gemm's `C` of `N` values run in the kernel's epilogue.
//!
//! What does not run compressed says so: a Conv's packed `W` is uploaded dense (no implicit-GEMM
//! B loader reads these layouts yet) with a warning naming the node; a Q8 `B` of a float MatMul or
//! Gemm has no weight-only int8 kernel and is an [`Error::Unsupported`] naming the node, as are
//! Gemms the epilogue cannot express (`transA`, `alpha ≠ 1`, a `C` that is not one value per
//! output) and activations of rank above 3.

use std::collections::HashMap;

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::graph::{Graph, Node, Op, PackedMatrix, PackedWeight};
use crate::ops::matmul::int4::{matmul_q4, GpuQ4Weights};
use crate::ops::sparse::bsr::{bsr_matmul, GpuBsrMatrix};
use crate::ops::sparse::nm::{nm_matmul, GpuNmMatrix};
use crate::ops::Activation;
use crate::runtime::gpu::upload;
use crate::tensor::GpuTensor;

/// A packed weight as the GPU holds it.
pub enum DeviceWeight {
    /// Int4 groups, read by the int4 matmul kernels.
    Q4(GpuQ4Weights),
    /// Block-sparse rows.
    Bsr(GpuBsrMatrix),
    /// N:M sparse rows.
    NmSparse(GpuNmMatrix),
    /// The logical tensor, dequantized: for readers with no kernel for the layout (logged).
    Dense(GpuTensor),
}

/// Uploads every packed weight of `graph` once, in the layout its readers run: a MatMul or Gemm
/// `B` in its packed layout, a Conv `W` dense (with a warning). A Q8 MatMul/Gemm `B` is an
/// [`Error::Unsupported`] naming the node.
pub fn upload_packed(gpu: &Gpu, graph: &Graph) -> Result<HashMap<String, DeviceWeight>> {
    let mut uploaded = HashMap::new();
    for node in &graph.nodes {
        let Some((name, weight)) = packed_input(graph, node) else {
            continue;
        };
        if uploaded.contains_key(name) {
            continue;
        }
        let device_weight = match (&node.op, &weight.matrix) {
            (Op::Conv(_), matrix) => {
                log::warn!(
                    "{}: its {} weight '{name}' runs dense on the GPU (no convolution kernel \
                     reads packed weights); it is dequantized once at Plan time",
                    node.location(),
                    matrix.layout_name()
                );
                DeviceWeight::Dense(upload(gpu, &weight.to_dense()?)?)
            }
            (_, PackedMatrix::Q8 { .. }) => {
                return Err(Error::Unsupported {
                    location: node.location(),
                    detail: format!(
                        "its Q8 weight '{name}' on the GPU: there is no weight-only int8 kernel \
                         for a float {}; quantize the activations too (QDQ) or pack it as Q4",
                        node.op.name()
                    ),
                })
            }
            (_, PackedMatrix::Q4(weights)) => DeviceWeight::Q4(GpuQ4Weights::upload(gpu, weights)?),
            (_, PackedMatrix::Bsr(matrix)) => DeviceWeight::Bsr(GpuBsrMatrix::upload(gpu, matrix)?),
            (_, PackedMatrix::NmSparse(matrix)) => {
                DeviceWeight::NmSparse(GpuNmMatrix::upload(gpu, matrix)?)
            }
        };
        uploaded.insert(name.to_string(), device_weight);
    }
    Ok(uploaded)
}

/// The packed weight `node` reads (always its input 1), with its name.
pub fn packed_input<'g>(graph: &'g Graph, node: &Node) -> Option<(&'g str, &'g PackedWeight)> {
    let name = node.input(1)?;
    graph
        .packed_weights
        .get_key_value(name)
        .map(|(name, weight)| (name.as_str(), weight))
}

/// Runs MatMul or Gemm `node` with the packed `B` `weight` and its other inputs `inputs` (`inputs[0]`
/// the activations, `inputs[2]` a Gemm's `C`) on the weight's kernel.
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
    if !(2..=3).contains(&x.shape().len()) {
        return Err(unsupported(format!(
            "activations of shape {:?} with a packed weight (the weight kernels take [M, K] or \
             [batch, M, K])",
            x.shape()
        )));
    }
    let (bias, activation) = epilogue(node, inputs).map_err(unsupported)?;
    match weight {
        DeviceWeight::Q4(w) => matmul_q4(gpu, x, w, bias, activation),
        DeviceWeight::Bsr(w) => bsr_matmul(gpu, x, w, bias, activation),
        DeviceWeight::NmSparse(w) => nm_matmul(gpu, x, w, bias, activation),
        DeviceWeight::Dense(_) => Err(unsupported(
            "a dense weight reached the packed lowering".into(),
        )),
    }
}

/// The bias and activation the kernel's epilogue applies for `node`, or why it cannot.
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
