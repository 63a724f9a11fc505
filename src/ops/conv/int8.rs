//! Int8 convolution with ONNX `QLinearConv` semantics on the GPU (`shaders/conv_q8.wgsl`): an
//! implicit GEMM over packed words with `dot4I8Packed` (or its unpacked twin, [`Dot4Path`]),
//! exact i32 accumulation and requantization to int8. Reference:
//! [`reference_conv2d_q8`](super::reference_conv2d_q8), which the result matches exactly.

use crate::device::{Binding, Gpu, GpuBuffer};
use crate::error::{Error, Result};
use crate::ops::conv::depthwise_q8::{self, depthwise_q8_fits};
use crate::ops::conv::params::ConvDims;
use crate::ops::conv::programs::{CONV2D_Q8_BUILTIN, CONV2D_Q8_UNPACKED};
use crate::ops::conv::reference_q8::{requantize_multipliers, MAX_Q8_K};
use crate::ops::conv::uniform::ConvUniform;
use crate::ops::conv::Conv2dParams;
use crate::ops::matmul::int8::GpuQ8Weights;
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::{DType, GpuTensor, Q8Weights};

pub use crate::ops::conv::reference_q8::QLinearQuant;
pub use crate::ops::matmul::int8::Dot4Path;

/// Output channels and pixels one workgroup computes.
const TILE: usize = 64;

/// Int8 conv weights on the GPU: a [`Q8Weights`] with one row per output channel and `K =
/// C/groups·kH·kW` columns in the weight's own `[M, C/groups, kH, kW]` order, zero points 0.
pub struct GpuQ8ConvWeights {
    shape: [usize; 4],
    scales: Vec<f32>,
    weights: GpuQ8Weights,
}

impl GpuQ8ConvWeights {
    /// Uploads `weights` as a conv weight of `shape`. Rows and columns that disagree with the
    /// shape are an [`Error::ShapeMismatch`]; a nonzero weight zero point (QLinearConv's int8
    /// weights here are symmetric) is an [`Error::InvalidArgument`].
    pub fn upload(gpu: &Gpu, weights: &Q8Weights, shape: [usize; 4]) -> Result<Self> {
        const OP: &str = "GpuQ8ConvWeights::upload";
        let k = shape[1] * shape[2] * shape[3];
        if weights.rows != shape[0] || weights.cols != k {
            return Err(Error::ShapeMismatch {
                op: OP,
                detail: format!(
                    "a {shape:?} weight needs [{}, {k}] rows and columns, got [{}, {}]",
                    shape[0], weights.rows, weights.cols
                ),
            });
        }
        if weights
            .zero_points
            .iter()
            .any(|&zero_point| zero_point != 0)
        {
            return Err(Error::InvalidArgument {
                op: OP,
                detail: "weight zero points must all be 0".into(),
            });
        }
        Ok(GpuQ8ConvWeights {
            shape,
            scales: weights.scales.clone(),
            weights: GpuQ8Weights::upload(gpu, weights)?,
        })
    }

    /// `[M, C/groups, kH, kW]`.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }

    /// One weight scale per output channel.
    pub(super) fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// The weight rows, four int8 values per word, each row padded to whole words.
    pub(super) fn weight_words(&self) -> &GpuBuffer {
        self.weights.data()
    }
}

/// `Q8ConvParams` in `conv_q8.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Q8ConvParams {
    m: u32,
    n: u32,
    k: u32,
    k_words: u32,
    x_zero_point: i32,
    y_zero_point: i32,
}

/// Checks everything [`conv2d_q8`] is given and returns the dimensions and `K`.
pub(super) fn check_operands(
    op: &'static str,
    gpu: &Gpu,
    (x, w, bias): (&GpuTensor, &GpuQ8ConvWeights, Option<&GpuTensor>),
    quant: &QLinearQuant,
    params: &Conv2dParams,
    path: Dot4Path,
    input_dtype: DType,
) -> Result<(ConvDims, usize)> {
    x.expect_dtype(op, input_dtype)?;
    quant.check(op)?;
    let dims = params.dims(x.shape(), &w.shape)?;
    let k = dims.channels_per_group() * dims.kernel[0] * dims.kernel[1];
    if k > MAX_Q8_K {
        return Err(Error::InvalidArgument {
            op,
            detail: format!(
                "K = {k} exceeds {MAX_Q8_K}, beyond which i32 accumulators can overflow"
            ),
        });
    }
    if let Some(bias) = bias {
        bias.expect_dtype(op, DType::I32)?;
        if bias.shape() != [dims.out_channels] {
            return Err(Error::ShapeMismatch {
                op,
                detail: format!(
                    "bias must be [{}], got {:?}",
                    dims.out_channels,
                    bias.shape()
                ),
            });
        }
    }
    path.check_supported(gpu)?;
    Ok((dims, k))
}

/// How [`conv2d_q8_with`] stores its activations and what it fuses into the requantization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Q8ConvEpilogue {
    /// The input's dtype, `I8` or `U8`; for `U8` the input zero point in [`QLinearQuant`] is the
    /// uint8 zero point minus 128.
    pub input: DType,
    /// The output's dtype, `I8` or `U8`; for `U8` the output zero point is likewise shifted.
    pub output: DType,
    /// Clamp the output below at its zero point (a Relu before the output's quantization).
    pub relu: bool,
}

impl Default for Q8ConvEpilogue {
    /// int8 in and out, nothing fused: ONNX QLinearConv's int8 form.
    fn default() -> Self {
        Q8ConvEpilogue {
            input: DType::I8,
            output: DType::I8,
            relu: false,
        }
    }
}

/// Fails unless the epilogue's input and output are `I8` or `U8`.
pub(super) fn check_q8_dtypes(op: &'static str, epilogue: Q8ConvEpilogue) -> Result<()> {
    for dtype in [epilogue.input, epilogue.output] {
        if !matches!(dtype, DType::I8 | DType::U8) {
            return Err(Error::InvalidArgument {
                op,
                detail: format!("int8 conv activations are i8 or u8, not {dtype}"),
            });
        }
    }
    Ok(())
}

/// `QLinearConv` on the GPU: `x` int8 `[N, C, H, W]` quantized per `quant`, `w` with per-channel
/// scales, `bias` optional i32 `[M]`; the result is int8 `[N, M, OH, OW]` quantized with
/// `quant`'s output scale and zero point. `K` must be at most [`MAX_Q8_K`].
pub fn conv2d_q8(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuQ8ConvWeights,
    bias: Option<&GpuTensor>,
    quant: &QLinearQuant,
    params: &Conv2dParams,
    path: Dot4Path,
) -> Result<GpuTensor> {
    let operands = (x, w, bias);
    conv2d_q8_with(
        gpu,
        operands,
        quant,
        params,
        path,
        Q8ConvEpilogue::default(),
    )
}

/// [`conv2d_q8`] with int8 or uint8 input and output and an optional fused Relu
/// ([`Q8ConvEpilogue`]): uint8 data is int8 with the top bit of each byte flipped, exactly, so the
/// arithmetic is [`conv2d_q8`]'s. Depthwise convolutions ([`depthwise_q8_fits`]) run the direct
/// depthwise kernel ([`super::depthwise_q8`], `path` unused there), every other one the implicit
/// GEMM on `path`.
pub fn conv2d_q8_with(
    gpu: &Gpu,
    (x, w, bias): (&GpuTensor, &GpuQ8ConvWeights, Option<&GpuTensor>),
    quant: &QLinearQuant,
    params: &Conv2dParams,
    path: Dot4Path,
    epilogue: Q8ConvEpilogue,
) -> Result<GpuTensor> {
    const OP: &str = "conv2d_q8";
    check_q8_dtypes(OP, epilogue)?;
    let (dims, k) = check_operands(OP, gpu, (x, w, bias), quant, params, path, epilogue.input)?;
    if depthwise_q8_fits(&dims) {
        return depthwise_q8::launch(gpu, (x, w, bias), quant, params, epilogue, &dims);
    }
    let program = match path {
        Dot4Path::Builtin => &CONV2D_Q8_BUILTIN,
        Dot4Path::Unpacked => &CONV2D_Q8_UNPACKED,
    };
    let geometry = ConvUniform::new(&dims, params.strides, params.pads, params.dilations)?;
    let columns = dims.batch * dims.out_pixels();
    let q8_params = Q8ConvParams {
        m: to_u32(
            "int8 conv output channels per group",
            dims.out_channels_per_group(),
        )?,
        n: to_u32("int8 conv output pixels", columns)?,
        k: to_u32("int8 conv K", k)?,
        k_words: to_u32("int8 conv K words", k.div_ceil(4))?,
        x_zero_point: i32::from(quant.input_zero_point),
        y_zero_point: i32::from(quant.output_zero_point),
    };
    let multipliers = requantize_multipliers(quant, &w.scales);
    let multipliers = gpu.upload_bytes(bytemuck::cast_slice(&multipliers))?;
    let whole_words = dims.out_pixels().is_multiple_of(4);
    let y = GpuTensor::uninit(gpu, &dims.output_shape(), epilogue.output)?;
    if !whole_words {
        gpu.clear(y.buffer());
    }
    let constants = [
        ("HAS_BIAS", f64::from(u8::from(bias.is_some()))),
        ("WHOLE_WORDS", f64::from(u8::from(whole_words))),
        ("INPUT_U8", f64::from(u8::from(epilogue.input == DType::U8))),
        (
            "OUTPUT_U8",
            f64::from(u8::from(epilogue.output == DType::U8)),
        ),
        ("RELU", f64::from(u8::from(epilogue.relu))),
    ];
    let pipeline = gpu.pipeline(program, &constants)?;
    let bindings = [
        (0, Binding::Storage(x.buffer())),
        (1, Binding::Storage(w.weights.data())),
        (
            2,
            bias.map_or(Binding::Unused, |bias| Binding::Storage(bias.buffer())),
        ),
        (3, Binding::Storage(y.buffer())),
        (4, Binding::Uniform(bytemuck::bytes_of(&q8_params))),
        (5, Binding::Uniform(bytemuck::bytes_of(&geometry))),
        (6, Binding::Storage(w.weights.row_sums())),
        (7, Binding::Storage(&multipliers)),
    ];
    let workgroups = [
        to_u32("int8 conv pixel tiles", columns.div_ceil(TILE))?,
        to_u32(
            "int8 conv channel tiles",
            dims.out_channels_per_group().div_ceil(TILE),
        )?,
        to_u32("int8 conv groups", dims.groups)?,
    ];
    gpu.dispatch(&pipeline, &bindings, workgroups)?;
    Ok(y)
}
