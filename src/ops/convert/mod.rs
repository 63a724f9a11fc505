//! Dtype conversion and logic on the GPU: Cast between f32, f16, i32, i8, u8 and bool, Not, and
//! the comparisons (Equal, Less, LessOrEqual, Greater, GreaterOrEqual) with numpy broadcasting.
//! Booleans live on the GPU as u8 holding 0 or 1; no kernel here takes i64.
//!
//! The specification is the CPU backend ([`crate::runtime::cpu`]): the references below run one
//! node there, so the GPU kernels are held to the very rules the CPU backend applies (numpy's
//! `astype` for Cast: floats truncate toward zero and saturate, NaN gives 0, integers wrap,
//! non-zero is true; NaN compares false). Two kernels: `shaders/convert_cast.wgsl` (Cast and Not,
//! chosen by override constants) and `shaders/convert_compare.wgsl`.

mod cast;
mod compare;

pub use cast::{cast, not, reference_cast, reference_not, GPU_CAST_DTYPES};
pub use compare::{compare, reference_compare, GPU_COMPARE_DTYPES};

use crate::device::ShaderProgram;
use crate::error::{Error, Result};
use crate::graph::{Node, Op};
use crate::ops::elementwise::FLOAT_BITS_WGSL;
use crate::tensor::HostTensor;

/// Cast and Not: one input, one output, one thread per output word.
pub const CONVERT_CAST: ShaderProgram = ShaderProgram {
    name: "convert_cast",
    parts: &[
        FLOAT_BITS_WGSL,
        include_str!("../../../shaders/convert_cast.wgsl"),
    ],
    needs_f16: false,
};

/// The comparisons, with the element-wise kernels' broadcast indexing.
pub const CONVERT_COMPARE: ShaderProgram = ShaderProgram {
    name: "convert_compare",
    parts: &[
        FLOAT_BITS_WGSL,
        include_str!("../../../shaders/elementwise_index.wgsl"),
        include_str!("../../../shaders/convert_compare.wgsl"),
    ],
    needs_f16: false,
};

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] = &[&CONVERT_CAST, &CONVERT_COMPARE];

/// Runs a one-node graph of `op` on `inputs` on the CPU backend and returns its one output.
pub(crate) fn reference_node(op: Op, inputs: &[&HostTensor]) -> Result<HostTensor> {
    let node = Node {
        name: "reference".into(),
        op,
        inputs: (0..inputs.len()).map(|i| Some(format!("x{i}"))).collect(),
        outputs: vec!["y".into()],
    };
    let operands: Vec<Option<&HostTensor>> = inputs.iter().map(|&t| Some(t)).collect();
    crate::runtime::cpu::eval_node(&node, &operands)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::InvalidArgument {
            op: "ops::convert::reference_node",
            detail: "the CPU backend returned no output".into(),
        })
}
