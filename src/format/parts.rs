//! Weights to the payload's safetensors tensors: a dense initializer is one tensor under its own
//! name; a packed weight is one tensor per part, `<name>.<layout>.<part>` (`conv1.w.q4.packed`,
//! `conv1.w.q4.scales`, ...), and its [`WeightLayout`] carries the parameters. The bytes are
//! little-endian, as kiln's tensors hold them.

use crate::format::header::WeightLayout;
use crate::graph::{PackedMatrix, PackedWeight};
use crate::tensor::bsr::{BsrMatrix, BsrValues};
use crate::tensor::nm_sparse::{NmSparseMatrix, NmValues};
use crate::tensor::{DType, HostTensor, Q4Weights, Q8Weights};
use safetensors::{Dtype, View};
use std::borrow::Cow;

/// One payload tensor to write.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTensor {
    /// Its safetensors element type.
    pub dtype: Dtype,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its little-endian bytes.
    pub bytes: Vec<u8>,
}

impl View for &StoredTensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The safetensors element type of a kiln [`DType`].
pub fn safetensors_dtype(dtype: DType) -> Dtype {
    match dtype {
        DType::F32 => Dtype::F32,
        DType::F16 => Dtype::F16,
        DType::I8 => Dtype::I8,
        DType::U8 => Dtype::U8,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::Bool => Dtype::BOOL,
    }
}

/// The kiln [`DType`] of a safetensors element type, if kiln has one.
pub fn kiln_dtype(dtype: Dtype) -> Option<DType> {
    DType::ALL
        .into_iter()
        .find(|&candidate| safetensors_dtype(candidate) == dtype)
}

/// The payload tensor name of part `part` of a packed weight.
pub fn part_name(weight: &str, layout: &str, part: &str) -> String {
    format!("{weight}.{layout}.{part}")
}

/// A dense initializer's one tensor.
pub fn dense_part(tensor: &HostTensor) -> StoredTensor {
    StoredTensor {
        dtype: safetensors_dtype(tensor.dtype()),
        shape: tensor.shape().to_vec(),
        bytes: tensor.to_le_bytes(),
    }
}

/// A packed weight's layout record and its parts, named.
pub fn packed_parts(
    name: &str,
    weight: &PackedWeight,
) -> (WeightLayout, Vec<(String, StoredTensor)>) {
    let (shape, transposed) = (weight.shape.clone(), weight.transposed);
    let (layout, parts) = match &weight.matrix {
        PackedMatrix::Q8 { weights, unsigned } => {
            let layout = WeightLayout::Q8 {
                rows: weights.rows,
                cols: weights.cols,
                unsigned: *unsigned,
                symmetric: q8_is_symmetric(weights),
                shape,
                transposed,
            };
            (layout, q8_parts(weights))
        }
        PackedMatrix::Q4(weights) => {
            let group_size = weights.group_size.elements();
            let layout = WeightLayout::Q4 {
                rows: weights.rows,
                cols: weights.cols,
                group_size,
                symmetric: q4_is_symmetric(weights),
                shape,
                transposed,
            };
            (layout, q4_parts(weights))
        }
        PackedMatrix::Bsr(matrix) => {
            let layout = WeightLayout::Bsr {
                rows: matrix.rows,
                cols: matrix.cols,
                block: matrix.block.to_string(),
                shape,
                transposed,
            };
            (layout, bsr_parts(matrix))
        }
        PackedMatrix::NmSparse(matrix) => {
            let layout = WeightLayout::NmSparse {
                rows: matrix.rows,
                cols: matrix.cols,
                kept: matrix.pattern.kept,
                group: matrix.pattern.group,
                shape,
                transposed,
            };
            (layout, nm_parts(matrix))
        }
    };
    let prefix = weight.matrix.layout_name();
    let named = parts
        .into_iter()
        .map(|(part, tensor)| (part_name(name, prefix, part), tensor))
        .collect();
    (layout, named)
}

fn stored(dtype: Dtype, shape: Vec<usize>, bytes: &[u8]) -> StoredTensor {
    StoredTensor {
        dtype,
        shape,
        bytes: bytes.to_vec(),
    }
}

/// Whether every zero point of `weights` is 0, so that none is stored.
pub fn q8_is_symmetric(weights: &Q8Weights) -> bool {
    weights
        .zero_points
        .iter()
        .all(|&zero_point| zero_point == 0)
}

/// Whether every zero point of `weights` is [`Q4_SYMMETRIC_ZERO_POINT`], so that none is stored.
pub fn q4_is_symmetric(weights: &Q4Weights) -> bool {
    (weights.zero_points.iter()).all(|&zero_point| zero_point == Q4_SYMMETRIC_ZERO_POINT)
}

/// The zero point of every group of a symmetric Q4 weight (see [`Q4Weights::quantize`]).
pub const Q4_SYMMETRIC_ZERO_POINT: u8 = 8;

/// The unpadded values (the rows' padding bytes are not stored), scales and, unless all are 0,
/// zero points.
fn q8_parts(weights: &Q8Weights) -> Vec<(&'static str, StoredTensor)> {
    let stride = weights.row_stride.max(1);
    let values: Vec<i8> = weights
        .data
        .chunks_exact(stride)
        .flat_map(|row| row[..weights.cols].iter().copied())
        .collect();
    let rows = weights.rows;
    let mut parts = vec![
        (
            "values",
            stored(
                Dtype::I8,
                vec![rows, weights.cols],
                bytemuck::cast_slice(&values),
            ),
        ),
        (
            "scales",
            stored(
                Dtype::F32,
                vec![rows],
                bytemuck::cast_slice(&weights.scales),
            ),
        ),
    ];
    if !q8_is_symmetric(weights) {
        let zero_points = bytemuck::cast_slice(&weights.zero_points);
        parts.push(("zero_points", stored(Dtype::I8, vec![rows], zero_points)));
    }
    parts
}

fn q4_parts(weights: &Q4Weights) -> Vec<(&'static str, StoredTensor)> {
    let (rows, groups) = (weights.rows, weights.groups_per_row);
    let words = vec![rows, weights.words_per_row()];
    let mut parts = vec![
        (
            "packed",
            stored(Dtype::U32, words, bytemuck::cast_slice(&weights.packed)),
        ),
        (
            "scales",
            stored(
                Dtype::F16,
                vec![rows, groups],
                bytemuck::cast_slice(&weights.scales),
            ),
        ),
    ];
    if !q4_is_symmetric(weights) {
        let zero_points = stored(Dtype::U8, vec![rows, groups], &weights.zero_points);
        parts.push(("zero_points", zero_points));
    }
    parts
}

fn bsr_parts(matrix: &BsrMatrix) -> Vec<(&'static str, StoredTensor)> {
    let mut parts = vec![
        (
            "row_ptr",
            stored(
                Dtype::U32,
                vec![matrix.row_ptr.len()],
                bytemuck::cast_slice(&matrix.row_ptr),
            ),
        ),
        (
            "col_idx",
            stored(
                Dtype::U32,
                vec![matrix.col_idx.len()],
                bytemuck::cast_slice(&matrix.col_idx),
            ),
        ),
    ];
    let count = vec![matrix.values.element_count()];
    let values = match &matrix.values {
        BsrValues::F32(values) => stored(Dtype::F32, count, bytemuck::cast_slice(values)),
        BsrValues::F16(values) => stored(Dtype::F16, count, bytemuck::cast_slice(values)),
        BsrValues::I8 { values, scales } => {
            parts.push((
                "scales",
                stored(Dtype::F32, vec![scales.len()], bytemuck::cast_slice(scales)),
            ));
            stored(Dtype::I8, count, bytemuck::cast_slice(values))
        }
    };
    parts.push(("values", values));
    parts
}

fn nm_parts(matrix: &NmSparseMatrix) -> Vec<(&'static str, StoredTensor)> {
    let count = vec![matrix.values.element_count()];
    let values = match &matrix.values {
        NmValues::F32(values) => stored(Dtype::F32, count, bytemuck::cast_slice(values)),
        NmValues::F16(values) => stored(Dtype::F16, count, bytemuck::cast_slice(values)),
    };
    let words = vec![matrix.rows, matrix.words_per_row];
    vec![
        ("values", values),
        (
            "indices",
            stored(Dtype::U32, words, bytemuck::cast_slice(&matrix.indices)),
        ),
    ]
}
