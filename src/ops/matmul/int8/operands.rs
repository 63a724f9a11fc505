//! The int8 matmul's operands on the GPU: [`Q8Weights`] and [`Q8Activations`] uploaded as they
//! are laid out on the host (src/tensor/q8.rs), after checking that the layout holds.

use super::ActivationRows;
use crate::device::{Gpu, GpuBuffer};
use crate::error::{Error, Result};
use crate::tensor::{Q8Activations, Q8Weights};

/// Checks the padded-row layout of a Q8 matrix whose fields may have been set by hand.
fn check_rows(
    op: &'static str,
    rows: usize,
    cols: usize,
    row_stride: usize,
    len: usize,
) -> Result<()> {
    let expected_stride = cols.div_ceil(4) * 4;
    if row_stride != expected_stride || rows.checked_mul(row_stride) != Some(len) {
        return Err(Error::ShapeMismatch {
            op,
            detail: format!(
                "[{rows}, {cols}] needs row_stride {expected_stride} and {rows} · \
                 {expected_stride} bytes, got row_stride {row_stride} and {len} bytes"
            ),
        });
    }
    Ok(())
}

/// [`Q8Weights`] on the GPU: `N` rows of `K` int8 values (K contiguous, rows padded to 4 bytes),
/// with one scale, zero point and row sum per row. Upload once, use in many matmuls.
pub struct GpuQ8Weights {
    n: usize,
    k: usize,
    data: GpuBuffer,
    scales: GpuBuffer,
    zero_points: GpuBuffer,
    row_sums: GpuBuffer,
}

impl GpuQ8Weights {
    /// Uploads `weights`: the padded data as words, the scales (f32), the zero points (widened to
    /// i32) and the row sums (i32). A layout that breaks the contract of [`crate::tensor::q8`]
    /// (wrong `row_stride`, lengths, or row sums that are not the rows' sums) is an error.
    pub fn upload(gpu: &Gpu, weights: &Q8Weights) -> Result<Self> {
        const OP: &str = "GpuQ8Weights::upload";
        let rows = weights.rows;
        check_rows(
            OP,
            rows,
            weights.cols,
            weights.row_stride,
            weights.data.len(),
        )?;
        let per_row = [
            ("scales", weights.scales.len()),
            ("zero_points", weights.zero_points.len()),
            ("row_sums", weights.row_sums.len()),
        ];
        if let Some((name, len)) = per_row.into_iter().find(|&(_, len)| len != rows) {
            let detail = format!("{rows} rows need {rows} {name}, got {len}");
            return Err(Error::ShapeMismatch { op: OP, detail });
        }
        for (row, &row_sum) in weights.row_sums.iter().enumerate() {
            let values = &weights.data[row * weights.row_stride..][..weights.cols];
            let sum: i32 = values.iter().map(|&q| i32::from(q)).sum();
            if sum != row_sum {
                let detail = format!("row_sums[{row}] is {row_sum}, but the row sums to {sum}");
                return Err(Error::InvalidArgument { op: OP, detail });
            }
        }
        let zero_points: Vec<i32> = weights.zero_points.iter().map(|&z| i32::from(z)).collect();
        Ok(GpuQ8Weights {
            n: rows,
            k: weights.cols,
            data: gpu.upload_bytes(weights.as_bytes())?,
            scales: gpu.upload_bytes(bytemuck::cast_slice(&weights.scales))?,
            zero_points: gpu.upload_bytes(bytemuck::cast_slice(&zero_points))?,
            row_sums: gpu.upload_bytes(bytemuck::cast_slice(&weights.row_sums))?,
        })
    }

    /// Output channels `N` (the weight rows).
    pub fn n(&self) -> usize {
        self.n
    }

    /// The reduction length `K`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The bytes these weights hold on the device: the padded rows and, per row, a scale, a zero
    /// point and a row sum (the row sums only the W8A8 kernel reads).
    pub fn device_bytes(&self) -> u64 {
        self.data.len_bytes()
            + self.scales.len_bytes()
            + self.zero_points.len_bytes()
            + self.row_sums.len_bytes()
    }

    /// The padded int8 rows, four values per word.
    pub(crate) fn data(&self) -> &GpuBuffer {
        &self.data
    }

    /// One f32 scale per row.
    pub(crate) fn scales(&self) -> &GpuBuffer {
        &self.scales
    }

    /// One i32 zero point per row.
    pub(crate) fn zero_points(&self) -> &GpuBuffer {
        &self.zero_points
    }

    /// One i32 sum of the row's values per row.
    pub(crate) fn row_sums(&self) -> &GpuBuffer {
        &self.row_sums
    }
}

/// [`Q8Activations`] on the GPU, read as `batch` matrices of `[M, K]`: row `b · M + m` of the
/// host tensor is row `m` of batch `b`. One scale and zero point for the whole tensor.
pub struct GpuQ8Activations {
    batch: usize,
    m: usize,
    k: usize,
    scale: f32,
    zero_point: i8,
    data: GpuBuffer,
    zero_points: GpuBuffer,
}

impl GpuQ8Activations {
    /// Uploads `activations` as `batch` matrices of `m` rows; `activations.rows` must be
    /// `batch · m` ([`Error::ShapeMismatch`] otherwise). With `batch == 1` the matmul's output is
    /// `[M, N]`, otherwise `[batch, M, N]`.
    ///
    /// ```no_run
    /// use kiln::{device::Gpu, ops::matmul::int8::GpuQ8Activations, tensor::Q8Activations};
    /// # fn main() -> kiln::Result<()> {
    /// let gpu = Gpu::from_env()?;
    /// let host = Q8Activations::from_parts(6, 5, &[1i8; 30], 0.1, 0)?;
    /// let activations = GpuQ8Activations::upload(&gpu, &host, 2, 3)?; // [2, 3, 5]
    /// assert_eq!(activations.shape(), vec![2, 3, 5]);
    /// # Ok(()) }
    /// ```
    pub fn upload(gpu: &Gpu, activations: &Q8Activations, batch: usize, m: usize) -> Result<Self> {
        const OP: &str = "GpuQ8Activations::upload";
        if batch.checked_mul(m) != Some(activations.rows) {
            return Err(Error::ShapeMismatch {
                op: OP,
                detail: format!(
                    "{} activation rows cannot be read as batch {batch} × M {m}",
                    activations.rows
                ),
            });
        }
        let data_len = activations.data.len();
        check_rows(
            OP,
            activations.rows,
            activations.cols,
            activations.row_stride,
            data_len,
        )?;
        Ok(GpuQ8Activations {
            batch,
            m,
            k: activations.cols,
            scale: activations.scale,
            zero_point: activations.zero_point,
            data: gpu.upload_bytes(activations.as_bytes())?,
            zero_points: gpu
                .upload_bytes(bytemuck::bytes_of(&i32::from(activations.zero_point)))?,
        })
    }

    /// Independent products (matrices of `[M, K]`).
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Rows per batch `M`.
    pub fn m(&self) -> usize {
        self.m
    }

    /// The reduction length `K`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The tensor's scale.
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// The tensor's zero point.
    pub fn zero_point(&self) -> i8 {
        self.zero_point
    }

    /// `[M, K]` when `batch == 1`, else `[batch, M, K]`: the A shape of
    /// [`MatmulDims`](crate::ops::matmul::MatmulDims).
    pub fn shape(&self) -> Vec<usize> {
        if self.batch == 1 {
            vec![self.m, self.k]
        } else {
            vec![self.batch, self.m, self.k]
        }
    }

    /// The padded int8 rows, four values per word.
    pub(crate) fn data(&self) -> &GpuBuffer {
        &self.data
    }

    /// The kernel's view of these activations: one zero point for every row.
    pub(super) fn rows(&self) -> ActivationRows<'_> {
        ActivationRows {
            batch: self.batch,
            m: self.m,
            k: self.k,
            data: &self.data,
            zero_points: &self.zero_points,
            zero_point_per_row: false,
        }
    }
}
