//! The payload's safetensors tensors back to weights, the inverse of `crate::format::parts`.
//! Every tensor's dtype and shape is checked against what its layout needs before anything is
//! allocated from it (safetensors has already checked each byte length against dtype × shape and
//! the file size), and packed weights are rebuilt through their `from_parts` constructors, which
//! validate every layout rule, so hostile parts are an [`Error`].

use crate::error::{Error, Result};
use crate::format::header::WeightLayout;
use crate::format::parts::{kiln_dtype, part_name, Q4_SYMMETRIC_ZERO_POINT};
use crate::graph::{PackedMatrix, PackedWeight};
use crate::tensor::bsr::{BlockShape, BsrMatrix, BsrValues};
use crate::tensor::nm_sparse::{NmPattern, NmSparseMatrix, NmValues};
use crate::tensor::{HostTensor, Q4GroupSize, Q4Weights, Q8Weights};
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeSet;

/// The payload's tensors, and which of them the header has used.
pub struct Payload<'data> {
    tensors: SafeTensors<'data>,
    used: BTreeSet<String>,
}

impl<'data> Payload<'data> {
    /// Wraps parsed tensors.
    pub fn new(tensors: SafeTensors<'data>) -> Self {
        Payload {
            tensors,
            used: BTreeSet::new(),
        }
    }

    /// Tensor `name`'s dtype, shape and bytes; an error if it is missing or already used.
    fn take(&mut self, name: &str) -> Result<(Dtype, Vec<usize>, &'data [u8])> {
        let view = self.tensors.tensor(name).map_err(|_| {
            invalid(
                name,
                "the header names this tensor but the payload lacks it".into(),
            )
        })?;
        if !self.used.insert(name.to_string()) {
            return Err(invalid(name, "the header uses this tensor twice".into()));
        }
        Ok((view.dtype(), view.shape().to_vec(), view.data()))
    }

    /// Tensor `name`'s bytes, required to be of `dtype` and, when given, `shape`.
    fn take_exact(
        &mut self,
        name: &str,
        dtype: Dtype,
        shape: Option<&[usize]>,
    ) -> Result<&'data [u8]> {
        let (found_dtype, found_shape, bytes) = self.take(name)?;
        if found_dtype != dtype || shape.is_some_and(|shape| shape != found_shape) {
            let wanted_shape = shape.map_or("any shape".into(), |shape| format!("{shape:?}"));
            let detail = format!(
                "is {found_dtype:?} {found_shape:?}; its layout needs {dtype:?} {wanted_shape}"
            );
            return Err(invalid(name, detail));
        }
        Ok(bytes)
    }

    /// The name of a payload tensor the header never used, if any.
    pub fn first_unused(&self) -> Option<String> {
        self.tensors
            .names()
            .into_iter()
            .find(|name| !self.used.contains(*name))
            .map(str::to_string)
    }

    /// The dense initializer `name`.
    pub fn dense(&mut self, name: &str) -> Result<HostTensor> {
        let (dtype, shape, bytes) = self.take(name)?;
        let dtype = kiln_dtype(dtype)
            .ok_or_else(|| invalid(name, format!("{dtype:?} is not an element type kiln has")))?;
        HostTensor::from_le_bytes(&shape, dtype, bytes)
            .map_err(|error| invalid(name, error.to_string()))
    }

    /// The packed weight `name` stored as `layout`.
    pub fn packed(&mut self, name: &str, layout: &WeightLayout) -> Result<PackedWeight> {
        let (matrix, shape, transposed) = match layout {
            WeightLayout::Dense => {
                return Err(invalid(name, "a dense layout is not packed".into()))
            }
            WeightLayout::Q8 {
                rows,
                cols,
                unsigned,
                symmetric,
                shape,
                transposed,
            } => {
                let weights = self.q8(name, *rows, *cols, *symmetric)?;
                (
                    PackedMatrix::Q8 {
                        weights,
                        unsigned: *unsigned,
                    },
                    shape,
                    transposed,
                )
            }
            WeightLayout::Q4 {
                rows,
                cols,
                group_size,
                symmetric,
                shape,
                transposed,
            } => (
                PackedMatrix::Q4(self.q4(name, *rows, *cols, *group_size, *symmetric)?),
                shape,
                transposed,
            ),
            WeightLayout::Bsr {
                rows,
                cols,
                block,
                shape,
                transposed,
            } => (
                PackedMatrix::Bsr(self.bsr(name, *rows, *cols, block)?),
                shape,
                transposed,
            ),
            WeightLayout::NmSparse {
                rows,
                cols,
                kept,
                group,
                shape,
                transposed,
            } => {
                let pattern = NmPattern {
                    kept: *kept,
                    group: *group,
                };
                (
                    PackedMatrix::NmSparse(self.nm(name, *rows, *cols, pattern)?),
                    shape,
                    transposed,
                )
            }
        };
        PackedWeight::new(matrix, shape.clone(), *transposed)
            .map_err(|error| invalid(name, error.to_string()))
    }

    /// A symmetric weight has no zero-point part: its zero points are all 0.
    fn q8(&mut self, name: &str, rows: usize, cols: usize, symmetric: bool) -> Result<Q8Weights> {
        let part = |part: &str| part_name(name, "q8", part);
        let values = self.take_exact(&part("values"), Dtype::I8, Some(&[rows, cols]))?;
        let scales = self.take_exact(&part("scales"), Dtype::F32, Some(&[rows]))?;
        let zero_points = if symmetric {
            vec![0; rows]
        } else {
            let stored = self.take_exact(&part("zero_points"), Dtype::I8, Some(&[rows]))?;
            bytemuck::cast_slice(stored).to_vec()
        };
        Q8Weights::from_parts(
            rows,
            cols,
            bytemuck::cast_slice(values),
            bytemuck::pod_collect_to_vec(scales),
            zero_points,
        )
        .map_err(|error| invalid(name, error.to_string()))
    }

    /// Unpacks the nibbles of `K` and repacks them through [`Q4Weights::from_parts`]; the words
    /// must come back identical (each row's tail holds its last group's zero point). A symmetric
    /// weight has no zero-point part: its zero points are all 8.
    fn q4(
        &mut self,
        name: &str,
        rows: usize,
        cols: usize,
        group_size: usize,
        symmetric: bool,
    ) -> Result<Q4Weights> {
        let part = |part: &str| part_name(name, "q4", part);
        let group = Q4GroupSize::from_elements(group_size)
            .map_err(|error| invalid(name, error.to_string()))?;
        let groups_per_row = cols.div_ceil(group_size);
        let words_per_row = groups_per_row
            .checked_mul(group_size / 8)
            .ok_or_else(|| invalid(name, format!("{cols} columns overflow")))?;
        let packed = self.take_exact(&part("packed"), Dtype::U32, Some(&[rows, words_per_row]))?;
        let scales = self.take_exact(&part("scales"), Dtype::F16, Some(&[rows, groups_per_row]))?;
        let group_count = rows
            .checked_mul(groups_per_row)
            .ok_or_else(|| invalid(name, format!("{rows} rows overflow")))?;
        let zero_points = if symmetric {
            vec![Q4_SYMMETRIC_ZERO_POINT; group_count]
        } else {
            let shape = [rows, groups_per_row];
            self.take_exact(&part("zero_points"), Dtype::U8, Some(&shape))?
                .to_vec()
        };
        let words: Vec<u32> = bytemuck::pod_collect_to_vec(packed);
        let nibbles: Vec<u8> = words
            .chunks_exact(words_per_row.max(1))
            .flat_map(|row| (0..cols).map(move |k| ((row[k / 8] >> (4 * (k % 8))) & 0xF) as u8))
            .collect();
        let weights = Q4Weights::from_parts(
            rows,
            cols,
            group,
            &nibbles,
            bytemuck::pod_collect_to_vec(scales),
            zero_points,
        )
        .map_err(|error| invalid(name, error.to_string()))?;
        if weights.packed != words {
            let detail = "a row's padding nibbles are not its last group's zero point".into();
            return Err(invalid(&part("packed"), detail));
        }
        Ok(weights)
    }

    fn bsr(&mut self, name: &str, rows: usize, cols: usize, block: &str) -> Result<BsrMatrix> {
        let part = |part: &str| part_name(name, "bsr", part);
        let block: BlockShape = block
            .parse()
            .map_err(|error: Error| invalid(name, error.to_string()))?;
        let row_ptr = self.take_exact(&part("row_ptr"), Dtype::U32, None)?;
        let col_idx = self.take_exact(&part("col_idx"), Dtype::U32, None)?;
        let (dtype, _, values) = self.take(&part("values"))?;
        let values = match dtype {
            Dtype::F32 => BsrValues::F32(bytemuck::pod_collect_to_vec(values)),
            Dtype::F16 => BsrValues::F16(bytemuck::pod_collect_to_vec(values)),
            Dtype::I8 => BsrValues::I8 {
                values: bytemuck::cast_slice(values).to_vec(),
                scales: bytemuck::pod_collect_to_vec(self.take_exact(
                    &part("scales"),
                    Dtype::F32,
                    None,
                )?),
            },
            other => {
                return Err(invalid(
                    &part("values"),
                    format!("{other:?} values; BSR holds F32, F16 or I8"),
                ))
            }
        };
        let (row_ptr, col_idx) = (
            bytemuck::pod_collect_to_vec(row_ptr),
            bytemuck::pod_collect_to_vec(col_idx),
        );
        BsrMatrix::from_parts(rows, cols, block, row_ptr, col_idx, values)
            .map_err(|error| invalid(name, error.to_string()))
    }

    fn nm(
        &mut self,
        name: &str,
        rows: usize,
        cols: usize,
        pattern: NmPattern,
    ) -> Result<NmSparseMatrix> {
        let part = |part: &str| part_name(name, "nm", part);
        let (dtype, _, values) = self.take(&part("values"))?;
        let values = match dtype {
            Dtype::F32 => NmValues::F32(bytemuck::pod_collect_to_vec(values)),
            Dtype::F16 => NmValues::F16(bytemuck::pod_collect_to_vec(values)),
            other => {
                return Err(invalid(
                    &part("values"),
                    format!("{other:?} values; N:M holds F32 or F16"),
                ))
            }
        };
        let indices =
            bytemuck::pod_collect_to_vec(self.take_exact(&part("indices"), Dtype::U32, None)?);
        NmSparseMatrix::from_parts(rows, cols, pattern, values, indices)
            .map_err(|error| invalid(name, error.to_string()))
    }
}

/// An [`Error::InvalidModel`] located at payload tensor `name`.
fn invalid(name: &str, detail: String) -> Error {
    Error::InvalidModel {
        location: format!("kiln tensor '{name}'"),
        detail,
    }
}
