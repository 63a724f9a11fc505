//! ONNX `MatMulInteger` on the GPU for operands as the runtime holds them: `A` a dense int8 or
//! uint8 [`GpuTensor`] `[…, M, K]` with a run-time zero point (one, or one per row of `M`), `B` a
//! constant int8 or uint8 `[K, N]` with one zero point or one per column, uploaded once as
//! [`GpuQ8Weights`]. A pack dispatch (`shaders/matmul_q8_pack.wgsl`) lays `A` out in padded rows
//! and widens its zero points on the device, then the W8A8 kernel stores the exact i32
//! accumulators.
//!
//! uint8 operands run on the int8 kernel shifted by −128, values and zero points alike, so every
//! `a − a_zp` and `b − b_zp` (and the result) is unchanged: exact, like the reference
//! [`reference_matmul_integer`](super::reference_matmul_integer).

use super::{launch, ActivationRows, Dot4Path, GpuQ8Weights, Output};
use crate::device::{Binding, Gpu, GpuBuffer, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::{DType, GpuTensor, HostTensor, Q8Weights};

/// Packs an int8 or uint8 tensor into the int8 matmul's padded rows.
pub const MATMUL_Q8_PACK: ShaderProgram = ShaderProgram {
    name: "matmul_q8_pack",
    parts: &[include_str!("../../../../shaders/matmul_q8_pack.wgsl")],
    needs_f16: false,
};

/// `PackParams` of `shaders/matmul_q8_pack.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PackParams {
    rows: u32,
    k: u32,
    k_words: u32,
    zero_points: u32,
}

/// `B` (`[K, N]`, i8 or u8) and its zero point (none, one, or `N`) as int8 weights `[N, K]` with
/// one zero point per row, shifted by −128 when unsigned; the scales are 1 (MatMulInteger has
/// none). The weights' dtype and a zero point of another dtype or length are errors.
pub fn integer_weights(b: &HostTensor, zero_point: Option<&HostTensor>) -> Result<Q8Weights> {
    const OP: &str = "MatMulInteger";
    let (k, n) = match *b.shape() {
        [k, n] => (k, n),
        ref other => {
            return Err(Error::InvalidArgument {
                op: OP,
                detail: format!("the GPU kernel takes a 2-D B, got shape {other:?}"),
            })
        }
    };
    let shift = match b.dtype() {
        DType::I8 => 0,
        DType::U8 => 128,
        other => {
            return Err(Error::InvalidArgument {
                op: OP,
                detail: format!("B is {other}; MatMulInteger takes i8 or u8"),
            })
        }
    };
    let values = b.to_i64_vec("B")?;
    let zero_points = match zero_point {
        None => vec![0; n],
        Some(zero_point) if zero_point.dtype() != b.dtype() => {
            return Err(Error::DTypeMismatch {
                op: OP,
                expected: b.dtype(),
                got: zero_point.dtype(),
            })
        }
        Some(zero_point) => match zero_point.to_i64_vec("b_zero_point")? {
            one if one.len() == 1 => vec![one[0]; n],
            per_column if per_column.len() == n && zero_point.shape().len() == 1 => per_column,
            other => {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    detail: format!("b_zero_point holds {} values for N = {n}", other.len()),
                })
            }
        },
    };
    let narrow = |value: i64| (value - shift) as i8;
    let transposed: Vec<i8> = (0..n * k)
        .map(|index| narrow(values[(index % k) * n + index / k]))
        .collect();
    let zero_points = zero_points.into_iter().map(narrow).collect();
    Q8Weights::from_parts(n, k, &transposed, vec![1.0; n], zero_points)
}

/// `MatMulInteger(a, b, a_zero_point?, b_zero_point?)` on the GPU with `b` as uploaded by
/// [`integer_weights`]: `a` i8 or u8 `[…, M, K]` (leading axes are batches), `a_zero_point` of
/// `a`'s dtype with one value or `M`. Output i32 `[…, M, N]`. Bad dtypes or lengths are errors.
pub fn matmul_integer(
    gpu: &Gpu,
    a: &GpuTensor,
    a_zero_point: Option<&GpuTensor>,
    w: &GpuQ8Weights,
    path: Dot4Path,
) -> Result<GpuTensor> {
    const OP: &str = "MatMulInteger";
    let packed = PackedActivations::pack(OP, gpu, a, a_zero_point)?;
    let c = launch(OP, gpu, &packed.rows(), w, Output::I32, path)?;
    c.reshape(&packed.output_shape(w.n()))
}

/// How many zero points `a_zero_point` holds: none or one (1), or one per row of `m` (`m`).
fn zero_point_count(
    op: &'static str,
    a: &GpuTensor,
    a_zero_point: Option<&GpuTensor>,
    m: usize,
) -> Result<usize> {
    let Some(zero_point) = a_zero_point else {
        return Ok(1);
    };
    zero_point.expect_dtype(op, a.dtype())?;
    match zero_point.len() {
        1 => Ok(1),
        len if len == m && zero_point.shape().len() == 1 => Ok(m),
        len => {
            let detail = format!("a_zero_point holds {len} values for M = {m}");
            Err(Error::ShapeMismatch { op, detail })
        }
    }
}

/// An int8 or uint8 device tensor laid out for the int8 kernel by `shaders/matmul_q8_pack.wgsl`.
pub(super) struct PackedActivations {
    shape: Vec<usize>,
    batch: usize,
    rows: GpuBuffer,
    zero_points: GpuBuffer,
    zero_point_count: usize,
}

impl PackedActivations {
    /// Records the pack of `a` (`[…, M, K]`, i8 or u8) and its zero point (none, one, or `M`, of
    /// `a`'s dtype), after checking them.
    pub(super) fn pack(
        op: &'static str,
        gpu: &Gpu,
        a: &GpuTensor,
        a_zero_point: Option<&GpuTensor>,
    ) -> Result<Self> {
        let flip = match a.dtype() {
            DType::I8 => false,
            DType::U8 => true,
            other => {
                let detail = format!("A is {other}; the int8 kernel takes i8 or u8");
                return Err(Error::InvalidArgument { op, detail });
            }
        };
        let shape = a.shape();
        let [leading @ .., m, k] = shape else {
            let detail = format!("A must have rank ≥ 2, got {shape:?}");
            return Err(Error::ShapeMismatch { op, detail });
        };
        let (m, k, batch) = (*m, *k, leading.iter().product::<usize>());
        let zero_point_count = zero_point_count(op, a, a_zero_point, m)?;
        let k_words = k.div_ceil(4);
        let params = PackParams {
            rows: to_u32("int8 matmul rows", batch * m)?,
            k: to_u32("int8 matmul K", k)?,
            k_words: to_u32("int8 matmul K words", k_words)?,
            zero_points: to_u32("int8 matmul zero points", zero_point_count)?,
        };
        let rows = gpu.alloc((batch * m * k_words * 4) as u64)?;
        let zero_points = gpu.alloc((zero_point_count * 4) as u64)?;
        let constants = [
            ("FLIP", f64::from(u8::from(flip))),
            (
                "HAS_ZERO_POINT",
                f64::from(u8::from(a_zero_point.is_some())),
            ),
        ];
        let zero_point_binding =
            a_zero_point.map_or(Binding::Unused, |zero| Binding::Storage(zero.buffer()));
        let bindings = [
            (0, Binding::Storage(a.buffer())),
            (1, Binding::Storage(&rows)),
            (2, zero_point_binding),
            (3, Binding::Storage(&zero_points)),
            (4, Binding::Uniform(bytemuck::bytes_of(&params))),
        ];
        let threads = (batch * m * k_words).max(zero_point_count);
        let pipeline = gpu.pipeline(&MATMUL_Q8_PACK, &constants)?;
        gpu.dispatch(
            &pipeline,
            &bindings,
            grid_for(gpu, threads, ELEMENTWISE_WORKGROUP)?,
        )?;
        Ok(PackedActivations {
            shape: shape.to_vec(),
            batch,
            rows,
            zero_points,
            zero_point_count,
        })
    }

    /// The kernel's view of the packed rows.
    pub(super) fn rows(&self) -> ActivationRows<'_> {
        let rank = self.shape.len();
        ActivationRows {
            batch: self.batch,
            m: self.shape[rank - 2],
            k: self.shape[rank - 1],
            data: &self.rows,
            zero_points: &self.zero_points,
            zero_point_per_row: self.zero_point_count > 1,
        }
    }

    /// `a`'s shape with `K` replaced by `n`: the product's shape.
    pub(super) fn output_shape(&self, n: usize) -> Vec<usize> {
        let mut shape = self.shape.clone();
        *shape.last_mut().expect("rank ≥ 2, checked by pack") = n;
        shape
    }
}
