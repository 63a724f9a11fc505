//! Converting a graph's weights between dense initializers and packed layouts ([`PackedWeight`]).
//!
//! A weight can be packed when every node that reads it reads it as a MatMul or Gemm `B` or a Conv
//! `W` ([`crate::graph::takes_packed_weight`]) in the same orientation: a MatMul `B` `[K, N]` and a
//! Gemm `B` with `transB = 0` are stored as `W = Bᵀ`, a Gemm `B` with `transB = 1` and a Conv `W`
//! `[N, C/group, kh, kw]` as `W` itself, flattened to `[N, K]`. [`unpack_weight`] puts
//! [`PackedWeight::to_dense`] back, so `pack → unpack` gives the layout's dequantization and a
//! second `pack` of that gives the same packed weight.
//!
//! ```
//! use kiln::graph::packing::{pack_weight, unpack_weight, Packing};
//! use kiln::graph::{Graph, Node, Op};
//! use kiln::ops::Activation;
//! use kiln::tensor::{HostTensor, Q4GroupSize};
//! let mut graph = Graph::default();
//! let values: Vec<f32> = (0..64 * 8).map(|i| (i % 13) as f32 - 6.0).collect();
//! graph.initializers.insert("w".into(), HostTensor::from_f32(&[64, 8], values)?);
//! graph.nodes.push(Node {
//!     name: "mm".into(),
//!     op: Op::MatMul { activation: Activation::Identity },
//!     inputs: vec![Some("x".into()), Some("w".into())],
//!     outputs: vec!["y".into()],
//! });
//! let q4 = Packing::Q4 { group_size: Q4GroupSize::G32, symmetric: true };
//! pack_weight(&mut graph, "w", &q4)?;
//! assert_eq!(graph.packed_weights["w"].matrix.dims(), (8, 64)); // W = Bᵀ, [N, K]
//! unpack_weight(&mut graph, "w")?;
//! assert_eq!(graph.initializers["w"].shape(), [64, 8]);
//! # Ok::<(), kiln::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::graph::{takes_packed_weight, Graph, Op, PackedMatrix, PackedWeight};
use crate::tensor::bsr::{BlockShape, BsrMatrix};
use crate::tensor::nm_sparse::{NmPattern, NmSparseMatrix};
use crate::tensor::{Q4GroupSize, Q4Weights, Q8Scheme, Q8Weights};

/// A packed layout and how to reach it from dense values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Packing {
    /// Int8: per output channel or one scale for the tensor, symmetric or with zero points;
    /// `unsigned` marks the weight as uint8 for export (the stored values are the same).
    Q8 {
        /// One scale and zero point per output channel, else one for the whole tensor.
        per_channel: bool,
        /// Symmetric, or min/max with a zero point.
        scheme: Q8Scheme,
        /// Export as uint8.
        unsigned: bool,
    },
    /// Int4 in groups along `K`.
    Q4 {
        /// Elements of `K` per group.
        group_size: Q4GroupSize,
        /// Zero point 8, else min/max with a zero point per group.
        symmetric: bool,
    },
    /// Block-sparse rows: the blocks of largest L2 norm kept.
    Bsr {
        /// The block shape.
        block: BlockShape,
        /// The fraction of blocks dropped, in `[0, 1]`.
        sparsity: f32,
    },
    /// N:M structured sparsity: in each group of `K` the largest magnitudes kept.
    NmSparse {
        /// Kept values per group.
        pattern: NmPattern,
    },
}

impl Packing {
    /// Packs the row-major `[rows, cols]` matrix `w`.
    pub fn pack(&self, w: &[f32], rows: usize, cols: usize) -> Result<PackedMatrix> {
        Ok(match *self {
            Packing::Q8 {
                per_channel,
                scheme,
                unsigned,
            } => PackedMatrix::Q8 {
                weights: quantize_q8(w, rows, cols, per_channel, scheme)?,
                unsigned,
            },
            Packing::Q4 {
                group_size,
                symmetric,
            } => PackedMatrix::Q4(Q4Weights::quantize(w, rows, cols, group_size, symmetric)?),
            Packing::Bsr { block, sparsity } => PackedMatrix::Bsr(BsrMatrix::prune_by_magnitude(
                w, rows, cols, block, sparsity,
            )?),
            Packing::NmSparse { pattern } => {
                PackedMatrix::NmSparse(NmSparseMatrix::prune_by_magnitude(w, rows, cols, pattern)?)
            }
        })
    }
}

/// Int8 weights with one scale and zero point per row, or one for the whole matrix (quantized as
/// a single row, then repeated for every row).
fn quantize_q8(
    w: &[f32],
    rows: usize,
    cols: usize,
    per_channel: bool,
    scheme: Q8Scheme,
) -> Result<Q8Weights> {
    if per_channel {
        return Q8Weights::quantize(w, rows, cols, scheme);
    }
    let whole = Q8Weights::quantize(w, 1, rows * cols, scheme)?;
    let values: Vec<i8> = (0..rows * cols)
        .map(|index| whole.value(0, index))
        .collect();
    let (scale, zero_point) = (whole.scales[0], whole.zero_points[0]);
    Q8Weights::from_parts(
        rows,
        cols,
        &values,
        vec![scale; rows],
        vec![zero_point; rows],
    )
}

/// Packs the dense f32 initializer `name` with `packing`; see the module documentation for
/// which weights can be. An error names the weight and, where a reader forbids it, the node.
pub fn pack_weight(graph: &mut Graph, name: &str, packing: &Packing) -> Result<()> {
    let transposed = orientation(graph, name)?;
    let dense = graph
        .initializers
        .get(name)
        .ok_or_else(|| invalid(name, "is not a dense initializer".into()))?;
    let values = dense
        .as_f32()
        .ok_or_else(|| invalid(name, format!("is {}, only f32 weights pack", dense.dtype())))?;
    let shape = dense.shape().to_vec();
    let (rows, cols, rows_major) = if transposed {
        let [k, n] = shape[..] else {
            return Err(invalid(
                name,
                format!("is read as a MatMul B but has shape {shape:?}"),
            ));
        };
        (n, k, transpose(values, k, n))
    } else {
        let rows = shape.first().copied().unwrap_or(1);
        (rows, values.len() / rows.max(1), values.to_vec())
    };
    let matrix = packing.pack(&rows_major, rows, cols)?;
    let packed = PackedWeight::new(matrix, shape, transposed)?;
    graph.initializers.remove(name);
    graph.packed_weights.insert(name.to_string(), packed);
    Ok(())
}

/// Packs every f32 initializer that can be packed (read only as a MatMul/Gemm `B` or Conv `W`, in
/// one orientation, 2-D for a MatMul) and returns their names, sorted.
pub fn pack_weights(graph: &mut Graph, packing: &Packing) -> Result<Vec<String>> {
    let names: Vec<String> = (graph.initializers.iter())
        .filter(|(name, tensor)| tensor.as_f32().is_some() && orientation(graph, name).is_ok())
        .map(|(name, _)| name.clone())
        .collect();
    for name in &names {
        pack_weight(graph, name, packing)?;
    }
    Ok(names)
}

/// Replaces the packed weight `name` by its dense f32 value ([`PackedWeight::to_dense`]).
pub fn unpack_weight(graph: &mut Graph, name: &str) -> Result<()> {
    let packed = (graph.packed_weights.get(name))
        .ok_or_else(|| invalid(name, "is not a packed weight".into()))?;
    let dense = packed.to_dense()?;
    graph.packed_weights.remove(name);
    graph.initializers.insert(name.to_string(), dense);
    Ok(())
}

/// Unpacks every packed weight; returns the names unpacked, in name order.
pub fn unpack_weights(graph: &mut Graph) -> Result<Vec<String>> {
    let names: Vec<String> = graph.packed_weights.keys().cloned().collect();
    for name in &names {
        unpack_weight(graph, name)?;
    }
    Ok(names)
}

/// Whether the weight `name` is stored as `Wᵀ` for its readers, which must all take a packed
/// weight and agree.
fn orientation(graph: &Graph, name: &str) -> Result<bool> {
    let mut found = None;
    for node in &graph.nodes {
        for (index, input) in node.inputs.iter().enumerate() {
            if input.as_deref() != Some(name) {
                continue;
            }
            if !takes_packed_weight(&node.op, index) {
                return Err(invalid(
                    name,
                    format!(
                        "is input {index} of {}, which cannot take a packed weight",
                        node.location()
                    ),
                ));
            }
            let transposed = match node.op {
                Op::Gemm { trans_b, .. } => !trans_b,
                Op::MatMul { .. } => true,
                _ => false,
            };
            if found.is_some_and(|earlier| earlier != transposed) {
                return Err(invalid(name, "is read in two orientations".into()));
            }
            found = Some(transposed);
        }
    }
    found.ok_or_else(|| invalid(name, "is read by no node".into()))
}

/// The `[n, k]` transpose of row-major `[k, n]` values.
fn transpose(values: &[f32], k: usize, n: usize) -> Vec<f32> {
    (0..n)
        .flat_map(|col| (0..k).map(move |row| values[row * n + col]))
        .collect()
}

fn invalid(name: &str, detail: String) -> Error {
    Error::InvalidArgument {
        op: "graph::packing",
        detail: format!("weight '{name}' {detail}"),
    }
}

#[cfg(test)]
mod tests;
