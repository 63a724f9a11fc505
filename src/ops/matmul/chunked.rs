//! Products whose weight B is larger than one storage binding ([`Gpu::max_binding_bytes`], the
//! adapter's `max_storage_buffer_binding_size`): VGG's fc6 weight is 411 MB, lavapipe binds at
//! most 128 MiB. B stays one buffer, uploaded once; each dispatch binds a range of its rows
//! ([`GpuTensor::rows`]), cut where the storage offset alignment allows.
//!
//! - B transposed (`[N, K]`, a Linear weight): the rows are output columns. Each part computes
//!   `act(A·B[n0..n1]ᵀ + bias[n0..n1])` with the ordinary kernel (the GEMV for one row), and the
//!   parts are concatenated along the last axis (one copy of the output and of the bias, not of
//!   B).
//! - B as stored (`[K, N]`): the rows are the reduction. Each part multiplies A's columns
//!   `k0..k1` (a copy of A, which is small next to B) by `B[k0..k1]`; the partial products are
//!   added in f32, the bias joins the first and the activation runs once at the end.
//!
//! Only a B without its own batch dimension is split; a batched B that large is an
//! [`Error::TensorTooLarge`].

use std::ops::Range;

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::ops::elementwise::{activation, binary, BinaryOp};
use crate::ops::layout::{concat, slice};
use crate::ops::matmul::MatmulOptions;
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

/// One product that fits the device's bindings: `act(A·B + bias)` for the chosen dtype and path.
pub(crate) type Product<'p> =
    dyn Fn(&GpuTensor, &GpuTensor, Option<&GpuTensor>, &MatmulOptions) -> Result<GpuTensor> + 'p;

/// Whether B must be split: its bytes exceed one storage binding.
pub(crate) fn exceeds_binding(gpu: &Gpu, b: &GpuTensor) -> bool {
    b.size_bytes() > gpu.max_binding_bytes()
}

/// `act(A·B + bias)` with B bound in parts, each part run by `product`. See the module docs.
pub(crate) fn matmul_in_parts(
    gpu: &Gpu,
    operands: [&GpuTensor; 2],
    bias: Option<&GpuTensor>,
    options: &MatmulOptions,
    product: &Product<'_>,
) -> Result<GpuTensor> {
    let [a, b] = operands;
    let parts = parts_of(gpu, b.shape(), b.dtype())?;
    log::debug!(
        "matmul: B {:?} ({} bytes) bound in {} parts of ≤ {} rows",
        b.shape(),
        b.size_bytes(),
        parts.len(),
        parts[0].len()
    );
    if options.b_transposed {
        split_output_columns(gpu, a, b, bias, options, &parts, product)
    } else {
        split_reduction(gpu, a, b, bias, options, &parts, product)
    }
}

/// How many storage bindings a B of `b_shape` and `dtype` takes on `gpu`: 1 when it fits one,
/// else the number of row parts [`matmul_f32`](super::f32::matmul_f32) splits it into. A B that
/// cannot be split is an [`Error::TensorTooLarge`].
pub fn binding_parts(gpu: &Gpu, b_shape: &[usize], dtype: DType) -> Result<usize> {
    let bytes = (b_shape.iter().product::<usize>() * dtype.size_bytes()) as u64;
    if bytes <= gpu.max_binding_bytes() {
        return Ok(1);
    }
    Ok(parts_of(gpu, b_shape, dtype)?.len())
}

/// The row ranges a 2-D B of `b_shape` is bound in; a batched B is an [`Error::TensorTooLarge`].
fn parts_of(gpu: &Gpu, b_shape: &[usize], dtype: DType) -> Result<Vec<Range<usize>>> {
    let bytes = (b_shape.iter().product::<usize>() * dtype.size_bytes()) as u64;
    let &[rows, cols] = b_shape else {
        return Err(batched_b_error(gpu, b_shape, bytes));
    };
    row_parts(gpu, rows, (cols * dtype.size_bytes()) as u64, bytes)
}

fn batched_b_error(gpu: &Gpu, b_shape: &[usize], bytes: u64) -> Error {
    Error::TensorTooLarge {
        location: "matmul with a batched B".into(),
        tensor: format!("B {b_shape:?}"),
        bytes,
        limit: gpu.max_binding_bytes(),
    }
}

/// Rows `0..rows` of a matrix of `row_bytes` per row in parts of at most `max_binding_bytes`,
/// each starting at a multiple of the storage offset alignment.
fn row_parts(
    gpu: &Gpu,
    rows: usize,
    row_bytes: u64,
    total_bytes: u64,
) -> Result<Vec<Range<usize>>> {
    let alignment = gpu.binding_offset_alignment().max(1);
    let step = alignment / gcd(alignment, row_bytes);
    let rows_per_part = gpu.max_binding_bytes() / row_bytes.max(1) / step * step;
    if rows_per_part == 0 {
        return Err(Error::TensorTooLarge {
            location: "matmul".into(),
            tensor: format!("{step} aligned rows of B ({row_bytes} bytes each)"),
            bytes: total_bytes.min(step * row_bytes),
            limit: gpu.max_binding_bytes(),
        });
    }
    let rows_per_part = rows_per_part as usize;
    Ok((0..rows)
        .step_by(rows_per_part)
        .map(|start| start..(start + rows_per_part).min(rows))
        .collect())
}

/// B `[N, K]`: each part of B's rows computes its own output columns.
fn split_output_columns(
    gpu: &Gpu,
    a: &GpuTensor,
    b: &GpuTensor,
    bias: Option<&GpuTensor>,
    options: &MatmulOptions,
    parts: &[Range<usize>],
    product: &Product<'_>,
) -> Result<GpuTensor> {
    let columns = parts
        .iter()
        .map(|part| {
            let bias_part = bias.map(|bias| columns_of(gpu, bias, part)).transpose()?;
            product(a, &b.rows(part.clone())?, bias_part.as_ref(), options)
        })
        .collect::<Result<Vec<_>>>()?;
    let columns: Vec<&GpuTensor> = columns.iter().collect();
    concat(gpu, &columns, -1)
}

/// B `[K, N]`: each part of B's rows multiplies the matching columns of A; the partial products
/// are summed, with the bias in the first and the activation after the last.
fn split_reduction(
    gpu: &Gpu,
    a: &GpuTensor,
    b: &GpuTensor,
    bias: Option<&GpuTensor>,
    options: &MatmulOptions,
    parts: &[Range<usize>],
    product: &Product<'_>,
) -> Result<GpuTensor> {
    let linear = MatmulOptions {
        activation: Activation::Identity,
        ..*options
    };
    let mut sum: Option<GpuTensor> = None;
    for part in parts {
        let a_columns = columns_of(gpu, a, part)?;
        let part_bias = if sum.is_none() { bias } else { None };
        let partial = product(&a_columns, &b.rows(part.clone())?, part_bias, &linear)?;
        sum = Some(match sum {
            None => partial,
            Some(sum) => binary(gpu, BinaryOp::Add, &sum, &partial)?,
        });
    }
    let sum = sum.ok_or_else(|| Error::InvalidArgument {
        op: "matmul",
        detail: "B has no rows to split".into(),
    })?;
    match options.activation {
        Activation::Identity => Ok(sum),
        fused => activation(gpu, fused, &sum),
    }
}

/// Indices `part` of the last axis of `tensor`, copied (A's columns, the bias's entries: both
/// small next to B).
fn columns_of(gpu: &Gpu, tensor: &GpuTensor, part: &Range<usize>) -> Result<GpuTensor> {
    let (start, end) = (part.start as i64, part.end as i64);
    slice(gpu, tensor, &[start], &[end], Some(&[-1]), None)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::gcd;

    #[test]
    fn alignment_steps() {
        assert_eq!(gcd(256, 100_352), 256);
        assert_eq!(gcd(256, 1000), 8);
        assert_eq!(gcd(256, 0), 256);
    }
}
