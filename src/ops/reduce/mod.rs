//! Reductions of f32 tensors of any rank: ReduceSum, ReduceMean, ReduceMax over a list of axes
//! (ONNX semantics with `noop_with_empty_axes = 0`: no axes reduces everything; `keepdims` keeps
//! reduced axes as size 1), and ArgMax along one axis. One kernel, `shaders/reduce.wgsl`, with the
//! reduction chosen by an override constant; the f64 reference is [`reference_reduce`].
//!
//! ArgMax returns `DType::I32` indices (ONNX says int64; kiln keeps indices in i32, which every
//! tensor kiln can hold fits). NaN counts as the largest value, as in numpy: ReduceMax of a slice
//! holding NaN is NaN, and ArgMax points at its first NaN (its last with `select_last_index`).

mod reference;

use crate::device::{Binding, Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::elementwise::{ElementwiseReference, FLOAT_BITS_WGSL};
use crate::ops::grid::grid_for;
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::shape::{normalize_axis, strides};
use crate::tensor::{DType, GpuTensor};

/// The reduction program (Sum, Mean, Max, ArgMax by the `REDUCE_OP` override constant).
pub const REDUCE: ShaderProgram = ShaderProgram {
    name: "reduce",
    parts: &[
        FLOAT_BITS_WGSL,
        include_str!("../../../shaders/reduce.wgsl"),
    ],
    needs_f16: false,
};

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] = &[&REDUCE];

/// Kept or reduced axes after coalescing, at most this many of each.
const MAX_RANK: usize = 8;

/// What a reduction op of the graph computes over its axes (ArgMax is its own op:
/// [`Reduction::ArgMax`] only for the kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReduceKind {
    /// ReduceSum (empty: 0).
    Sum,
    /// ReduceMean (empty: NaN).
    Mean,
    /// ReduceMax (empty: -inf); NaN wins.
    Max,
}

impl From<ReduceKind> for Reduction {
    fn from(kind: ReduceKind) -> Self {
        match kind {
            ReduceKind::Sum => Reduction::Sum,
            ReduceKind::Mean => Reduction::Mean,
            ReduceKind::Max => Reduction::Max,
        }
    }
}

/// What the reduction kernel and its reference compute: a [`ReduceKind`] over axes, or ArgMax
/// along one axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// ReduceSum (empty: 0).
    Sum,
    /// ReduceMean (empty: NaN).
    Mean,
    /// ReduceMax (empty: -inf); NaN wins.
    Max,
    /// ArgMax along one axis, as i32; ties go to the first index, or the last if
    /// `select_last_index`.
    ArgMax {
        /// ONNX `select_last_index`.
        select_last_index: bool,
    },
}

impl Reduction {
    /// The code `reduce.wgsl` switches on.
    pub fn code(self) -> u32 {
        match self {
            Reduction::Sum => 0,
            Reduction::Mean => 1,
            Reduction::Max => 2,
            Reduction::ArgMax { .. } => 3,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "ReduceSum",
            Reduction::Mean => "ReduceMean",
            Reduction::Max => "ReduceMax",
            Reduction::ArgMax { .. } => "ArgMax",
        }
    }
}

/// Which axes a reduction keeps and which it reduces, for an input shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReducePlan {
    /// The input's shape.
    pub input_shape: Vec<usize>,
    /// The reduced axes, sorted, non-negative.
    pub reduced_axes: Vec<usize>,
    /// The output's shape (reduced axes as 1 with `keepdims`, dropped without).
    pub output_shape: Vec<usize>,
    /// Elements combined into each output.
    pub reduced_count: usize,
}

impl ReducePlan {
    /// The plan for reducing `axes` (negative count from the end; empty = all) of `shape`.
    /// Repeated axes are an [`Error::InvalidArgument`].
    pub fn new(op: &'static str, shape: &[usize], axes: &[i64], keepdims: bool) -> Result<Self> {
        let mut reduced_axes = axes
            .iter()
            .map(|&axis| normalize_axis(op, axis, shape.len()))
            .collect::<Result<Vec<_>>>()?;
        reduced_axes.sort_unstable();
        if reduced_axes.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(Error::InvalidArgument {
                op,
                detail: format!("axes {axes:?} name an axis twice"),
            });
        }
        if axes.is_empty() {
            reduced_axes = (0..shape.len()).collect();
        }
        let output_shape = (0..shape.len())
            .filter_map(|axis| match (reduced_axes.contains(&axis), keepdims) {
                (false, _) => Some(shape[axis]),
                (true, true) => Some(1),
                (true, false) => None,
            })
            .collect();
        Ok(ReducePlan {
            reduced_count: reduced_axes.iter().map(|&axis| shape[axis]).product(),
            input_shape: shape.to_vec(),
            reduced_axes,
            output_shape,
        })
    }

    /// The kept and reduced axes as coalesced (size, stride) lists, outermost first.
    fn coalesced(&self) -> [Vec<(usize, usize)>; 2] {
        let own_strides = strides(&self.input_shape);
        let mut lists: [Vec<(usize, usize)>; 2] = [Vec::new(), Vec::new()];
        for (axis, (&size, &stride)) in self.input_shape.iter().zip(&own_strides).enumerate() {
            let list = &mut lists[usize::from(self.reduced_axes.contains(&axis))];
            if size == 1 {
                continue;
            }
            match list.last_mut() {
                Some(outer) if outer.1 == stride * size => *outer = (outer.0 * size, stride),
                _ => list.push((size, stride)),
            }
        }
        lists
    }
}

/// `ReduceParams` in `reduce.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ReduceParams {
    outputs: u32,
    reduced_count: u32,
    kept_rank: u32,
    reduced_rank: u32,
    kept_shape: [u32; MAX_RANK],
    kept_strides: [u32; MAX_RANK],
    reduced_shape: [u32; MAX_RANK],
    reduced_strides: [u32; MAX_RANK],
}

fn params(plan: &ReducePlan) -> Result<ReduceParams> {
    let [kept, reduced] = plan.coalesced();
    if kept.len().max(reduced.len()) > MAX_RANK {
        return Err(Error::LimitExceeded {
            what: "kept or reduced axes of a reduction after coalescing",
            requested: kept.len().max(reduced.len()) as u64,
            limit: MAX_RANK as u64,
        });
    }
    let mut params = ReduceParams {
        outputs: to_u32("reduction outputs", plan.output_shape.iter().product())?,
        reduced_count: to_u32("reduced elements", plan.reduced_count)?,
        kept_rank: kept.len() as u32,
        reduced_rank: reduced.len() as u32,
        kept_shape: [1; MAX_RANK],
        kept_strides: [0; MAX_RANK],
        reduced_shape: [1; MAX_RANK],
        reduced_strides: [0; MAX_RANK],
    };
    for (axis, &(size, stride)) in kept.iter().enumerate() {
        params.kept_shape[axis] = to_u32("reduction axis size", size)?;
        params.kept_strides[axis] = to_u32("reduction stride", stride)?;
    }
    for (axis, &(size, stride)) in reduced.iter().enumerate() {
        params.reduced_shape[axis] = to_u32("reduction axis size", size)?;
        params.reduced_strides[axis] = to_u32("reduction stride", stride)?;
    }
    Ok(params)
}

fn launch(gpu: &Gpu, kind: Reduction, x: &GpuTensor, plan: &ReducePlan) -> Result<GpuTensor> {
    x.expect_dtype(kind.name(), DType::F32)?;
    let dtype = match kind {
        Reduction::ArgMax { .. } => DType::I32,
        _ => DType::F32,
    };
    let output = GpuTensor::uninit(gpu, &plan.output_shape, dtype)?;
    if output.is_empty() {
        return Ok(output);
    }
    let params = params(plan)?;
    let select_last = matches!(
        kind,
        Reduction::ArgMax {
            select_last_index: true
        }
    );
    let constants = [
        ("REDUCE_OP", f64::from(kind.code())),
        ("SELECT_LAST_INDEX", f64::from(u8::from(select_last))),
    ];
    let pipeline = gpu.pipeline(&REDUCE, &constants)?;
    let bindings = [
        (0, Binding::Uniform(bytemuck::bytes_of(&params))),
        (1, Binding::Storage(x.buffer())),
        (2, Binding::Storage(output.buffer())),
    ];
    gpu.dispatch(&pipeline, &bindings, grid_for(gpu, output.len(), 1)?)?;
    Ok(output)
}

/// ReduceSum, ReduceMean or ReduceMax (`kind`) of `x` over `axes` (empty: all axes).
///
/// ```no_run
/// # use kiln::{device::Gpu, tensor::GpuTensor, ops::reduce::{reduce, ReduceKind}};
/// # fn main() -> kiln::Result<()> {
/// let gpu = Gpu::from_env()?;
/// let x = GpuTensor::upload(&gpu, &[2, 3], &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// let means = reduce(&gpu, ReduceKind::Mean, &x, &[-1], true)?;
/// assert_eq!(means.shape(), [2, 1]);
/// assert_eq!(means.read::<f32>(&gpu)?, vec![2.0, 5.0]);
/// # Ok(()) }
/// ```
pub fn reduce(
    gpu: &Gpu,
    kind: ReduceKind,
    x: &GpuTensor,
    axes: &[i64],
    keepdims: bool,
) -> Result<GpuTensor> {
    let kind = Reduction::from(kind);
    let plan = ReducePlan::new(kind.name(), x.shape(), axes, keepdims)?;
    launch(gpu, kind, x, &plan)
}

/// ArgMax of `x` along `axis`: i32 indices. An empty axis is an [`Error::InvalidArgument`].
pub fn arg_max(
    gpu: &Gpu,
    x: &GpuTensor,
    axis: i64,
    keepdims: bool,
    select_last_index: bool,
) -> Result<GpuTensor> {
    let plan = ReducePlan::new("ArgMax", x.shape(), &[axis], keepdims)?;
    if plan.reduced_count == 0 {
        return Err(Error::InvalidArgument {
            op: "ArgMax",
            detail: format!("axis {axis} of {:?} is empty", x.shape()),
        });
    }
    launch(gpu, Reduction::ArgMax { select_last_index }, x, &plan)
}

/// The reference of `kind` on `x` (of `shape`) over `axes`, in f64 with derived error bounds
/// (ArgMax: the indices as f64, bound 0).
pub fn reference_reduce(
    kind: impl Into<Reduction>,
    x: &[f32],
    shape: &[usize],
    axes: &[i64],
    keepdims: bool,
) -> Result<ElementwiseReference> {
    let kind = kind.into();
    let plan = ReducePlan::new(kind.name(), shape, axes, keepdims)?;
    Ok(reference::reference_reduce(kind, x, &plan))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_coalesce_and_keep_dims() {
        let plan = ReducePlan::new("t", &[2, 3, 4, 5], &[-1, 2], false).unwrap();
        assert_eq!(plan.output_shape, vec![2, 3]);
        assert_eq!(plan.reduced_count, 20);
        assert_eq!(plan.coalesced(), [vec![(6, 20)], vec![(20, 1)]]);
        let all = ReducePlan::new("t", &[2, 3], &[], true).unwrap();
        assert_eq!(
            (all.output_shape.clone(), all.reduced_count),
            (vec![1, 1], 6)
        );
        assert!(ReducePlan::new("t", &[2, 3], &[1, -1], true).is_err());
        assert!(ReducePlan::new("t", &[2, 3], &[2], true).is_err());
    }

    #[test]
    fn reference_ties_nan_and_empty() {
        let x = [1.0, 3.0, 3.0, f32::NAN, 2.0, f32::NAN];
        let first = reference_reduce(
            Reduction::ArgMax {
                select_last_index: false,
            },
            &x,
            &[2, 3],
            &[1],
            false,
        )
        .unwrap();
        assert_eq!(first.output, vec![1.0, 0.0]);
        let last = reference_reduce(
            Reduction::ArgMax {
                select_last_index: true,
            },
            &x,
            &[2, 3],
            &[1],
            false,
        )
        .unwrap();
        assert_eq!(last.output, vec![2.0, 2.0]);
        let max = reference_reduce(Reduction::Max, &x, &[2, 3], &[0], true).unwrap();
        assert!(max.output[0].is_nan() && max.output[1] == 3.0 && max.output[2].is_nan());
        let empty = reference_reduce(Reduction::Mean, &[], &[0, 2], &[0], false).unwrap();
        assert!(empty.output.iter().all(|v| v.is_nan()));
    }
}
