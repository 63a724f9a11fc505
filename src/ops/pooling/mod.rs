//! Pooling over NCHW tensors: MaxPool and AveragePool over 2-D windows (kernel, strides,
//! asymmetric pads, dilations, `ceil_mode`, `count_include_pad`, as ONNX defines them), and the
//! global pools that reduce each (n, c) plane to one value. The CPU references in
//! [`reference`](mod@reference) are the specification; the GPU launchers in this file must match
//! them (max exactly, average within [`average_pool_tolerance`]). The quantized average pools
//! (QLinearAveragePool, QLinearGlobalAveragePool) are in [`qlinear`], exact in integers.
//!
//! ```no_run
//! use kiln::{device::Gpu, ops::pooling::{max_pool2d, Pool2dOptions}, tensor::GpuTensor};
//! # fn main() -> kiln::Result<()> {
//! let gpu = Gpu::from_env()?;
//! let x = GpuTensor::upload(&gpu, &[1, 1, 4, 4], &(0..16).map(|v| v as f32).collect::<Vec<_>>())?;
//! let y = max_pool2d(&gpu, &x, &Pool2dOptions::square(2, 2))?;
//! assert_eq!(y.read::<f32>(&gpu)?, vec![5.0, 7.0, 13.0, 15.0]);
//! # Ok(()) }
//! ```

mod kernels;
pub mod qlinear;
mod qlinear_kernels;
#[cfg(test)]
mod qlinear_tests;
pub mod reference;

pub use kernels::{GLOBAL_POOL_F32, POOL2D_F16_PACKED, POOL2D_F32, POOL2D_Q8_PACKED};
pub use qlinear::{
    reference_qlinear_average_pool2d, reference_qlinear_global_average_pool, QLinearPoolQuant,
    MAX_QLINEAR_POOL_TAPS,
};
pub use qlinear_kernels::{
    qlinear_average_pool2d, qlinear_global_average_pool, GLOBAL_POOL_QLINEAR,
    POOL2D_QLINEAR_AVERAGE,
};
pub use reference::{reference_global_pool, reference_pool2d};

use crate::device::{Gpu, ShaderProgram};
use crate::error::{Error, Result};
use crate::tensor::{DType, GpuTensor};

/// The shader programs of the pooling family.
pub const PROGRAMS: &[&ShaderProgram] = &[
    &POOL2D_F32,
    &POOL2D_F16_PACKED,
    &POOL2D_Q8_PACKED,
    &GLOBAL_POOL_F32,
    &POOL2D_QLINEAR_AVERAGE,
    &GLOBAL_POOL_QLINEAR,
];

/// Which reduction a pool applies to its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The largest element; NaN anywhere in the window makes the result NaN.
    Max,
    /// The mean of the window's elements (which ones count: [`Pool2dOptions::count_include_pad`]).
    Average,
}

/// The window geometry of a 2-D pool, in ONNX's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dOptions {
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Step between windows along H and W.
    pub strides: [usize; 2],
    /// Implicit padding `[top, left, bottom, right]` (ONNX `pads` order).
    pub pads: [usize; 4],
    /// Spacing between a window's taps along H and W (1 = dense).
    pub dilations: [usize; 2],
    /// Round the output size up instead of down; a window that would start inside the bottom or
    /// right padding is dropped (ONNX and PyTorch).
    pub ceil_mode: bool,
    /// Average only: divide by every tap inside the padded input (true) or only by the taps on
    /// real elements (false, the ONNX default).
    pub count_include_pad: bool,
}

impl Pool2dOptions {
    /// A `size`×`size` window moved by `stride`, no padding, dilation 1, floor mode.
    pub fn square(size: usize, stride: usize) -> Self {
        Pool2dOptions {
            kernel: [size, size],
            strides: [stride, stride],
            pads: [0; 4],
            dilations: [1, 1],
            ceil_mode: false,
            count_include_pad: false,
        }
    }

    /// The window's extent along axis `axis` (0 = H, 1 = W): `(kernel − 1)·dilation + 1`.
    fn extent(&self, axis: usize) -> usize {
        (self.kernel[axis] - 1) * self.dilations[axis] + 1
    }

    /// The output's spatial size for an input of `input` = `[H, W]`, after checking the options.
    pub fn output_size(&self, input: [usize; 2]) -> Result<[usize; 2]> {
        let invalid = |detail: String| Error::InvalidArgument {
            op: "pool2d",
            detail,
        };
        if self.kernel.contains(&0) || self.strides.contains(&0) || self.dilations.contains(&0) {
            return Err(invalid(format!(
                "kernel {:?}, strides {:?} and dilations {:?} must all be at least 1",
                self.kernel, self.strides, self.dilations
            )));
        }
        let mut output = [0; 2];
        for axis in 0..2 {
            let (begin, end) = (self.pads[axis], self.pads[axis + 2]);
            let extent = self.extent(axis);
            if begin >= extent || end >= extent {
                return Err(invalid(format!(
                    "pads {:?} must be smaller than the window extent {extent} along axis {axis}",
                    self.pads
                )));
            }
            let padded = input[axis] + begin + end;
            if padded < extent {
                return Err(invalid(format!(
                    "window extent {extent} exceeds the padded input size {padded} along axis {axis}"
                )));
            }
            let stride = self.strides[axis];
            let span = padded - extent;
            let mut size = if self.ceil_mode {
                span.div_ceil(stride)
            } else {
                span / stride
            } + 1;
            if self.ceil_mode && (size - 1) * stride >= input[axis] + begin {
                size -= 1;
            }
            output[axis] = size;
        }
        Ok(output)
    }
}

/// The NCHW output shape of a 2-D pool over `input_shape`.
pub fn pool2d_output_shape(input_shape: &[usize], options: &Pool2dOptions) -> Result<[usize; 4]> {
    let [n, c, h, w] = nchw("pool2d", input_shape)?;
    let [out_h, out_w] = options.output_size([h, w])?;
    Ok([n, c, out_h, out_w])
}

/// The absolute tolerance for an average pool of f32 inputs bounded by `max_abs_input`: the
/// f32 sum of `taps` values errs by at most `taps·ε·max` (one rounding per addition), and the
/// division by the count adds one more rounding of the result.
pub fn average_pool_tolerance(taps: usize, max_abs_input: f32) -> f32 {
    (taps as f32 + 1.0) * f32::EPSILON * max_abs_input
}

fn nchw(op: &'static str, shape: &[usize]) -> Result<[usize; 4]> {
    <[usize; 4]>::try_from(shape).map_err(|_| Error::ShapeMismatch {
        op,
        detail: format!("expected an NCHW tensor of rank 4, got shape {shape:?}"),
    })
}

fn pool_dtype(op: &'static str, input: &GpuTensor) -> Result<()> {
    match input.dtype() {
        DType::F32 | DType::F16 => Ok(()),
        other => Err(Error::DTypeMismatch {
            op,
            expected: DType::F32,
            got: other,
        }),
    }
}

/// MaxPool over an NCHW f32, f16, int8 or uint8 tensor (f16 is read and written two per word,
/// int8 and uint8 four per word, any device; the integers' max is exact).
pub fn max_pool2d(gpu: &Gpu, input: &GpuTensor, options: &Pool2dOptions) -> Result<GpuTensor> {
    if !matches!(input.dtype(), DType::I8 | DType::U8) {
        pool_dtype("max_pool2d", input)?;
    }
    kernels::pool2d(gpu, PoolKind::Max, input, options)
}

/// AveragePool over an NCHW f32 or f16 tensor (f16 accumulates in f32).
pub fn average_pool2d(gpu: &Gpu, input: &GpuTensor, options: &Pool2dOptions) -> Result<GpuTensor> {
    pool_dtype("average_pool2d", input)?;
    kernels::pool2d(gpu, PoolKind::Average, input, options)
}

/// GlobalAveragePool: the mean of each (n, c) plane of an f32 tensor of rank ≥ 3, shaped
/// `[N, C, 1, …, 1]`.
pub fn global_average_pool(gpu: &Gpu, input: &GpuTensor) -> Result<GpuTensor> {
    kernels::global_pool(gpu, PoolKind::Average, input)
}

/// GlobalMaxPool: the maximum of each (n, c) plane of an f32, int8 or uint8 tensor of rank ≥ 3
/// (NaN propagates), shaped `[N, C, 1, …, 1]`.
pub fn global_max_pool(gpu: &Gpu, input: &GpuTensor) -> Result<GpuTensor> {
    if matches!(input.dtype(), DType::I8 | DType::U8) {
        return kernels::global_max_pool_q8(gpu, input);
    }
    kernels::global_pool(gpu, PoolKind::Max, input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_follow_onnx() {
        let mut options = Pool2dOptions::square(3, 2);
        assert_eq!(options.output_size([7, 8]).unwrap(), [3, 3]);
        options.ceil_mode = true;
        assert_eq!(options.output_size([7, 8]).unwrap(), [3, 4]);
        // ceil_mode drops a window that would start in the end padding: 4x4, k2 s2 p1.
        let options = Pool2dOptions {
            pads: [1, 1, 1, 1],
            ceil_mode: true,
            ..Pool2dOptions::square(2, 2)
        };
        assert_eq!(options.output_size([4, 4]).unwrap(), [3, 3]);
        let dilated = Pool2dOptions {
            dilations: [2, 3],
            ..Pool2dOptions::square(2, 1)
        };
        assert_eq!(dilated.output_size([5, 5]).unwrap(), [3, 2]);
    }

    #[test]
    fn bad_options_are_errors() {
        let zero = Pool2dOptions::square(0, 1);
        assert!(zero.output_size([4, 4]).is_err());
        let big_pad = Pool2dOptions {
            pads: [2, 0, 0, 0],
            ..Pool2dOptions::square(2, 1)
        };
        assert!(big_pad.output_size([4, 4]).is_err());
        assert!(Pool2dOptions::square(5, 1).output_size([4, 4]).is_err());
        assert!(pool2d_output_shape(&[1, 4, 4], &Pool2dOptions::square(2, 2)).is_err());
    }
}
