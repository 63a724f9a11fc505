//! f32 convolution: the implicit GEMM for every shape, and a direct kernel for depthwise layers.
//! Reference: [`reference_conv2d`](crate::ops::conv::reference_conv2d).

use crate::device::{Binding, Gpu};
use crate::error::{Error, Result};
use crate::ops::conv::gemm;
use crate::ops::conv::params::ConvDims;
use crate::ops::conv::programs::{CONV2D_DEPTHWISE_F32, CONV2D_F32_SCALAR, CONV2D_F32_VEC4};
use crate::ops::conv::uniform::ConvUniform;
use crate::ops::conv::Conv2dParams;
use crate::ops::matmul::tiled::to_u32;
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

/// The most kernel taps (`kH·kW`) the depthwise kernel stages in workgroup memory (`MAX_TAPS` in
/// `shaders/conv_depthwise_f32.wgsl`); larger depthwise kernels run the implicit GEMM.
pub const DEPTHWISE_MAX_TAPS: usize = 64;
/// Output columns and rows of one depthwise workgroup.
const DEPTHWISE_TILE: [usize; 2] = [64, 4];

/// Which f32 kernel runs a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConvPath {
    /// The depthwise kernel where it applies ([`depthwise_fits`]), the implicit GEMM otherwise.
    #[default]
    Auto,
    /// The implicit GEMM, for any convolution.
    ImplicitGemm,
    /// The direct depthwise kernel; an error unless [`depthwise_fits`].
    Depthwise,
}

/// Whether the depthwise kernel can run `dims`: `groups == C == M` and at most
/// [`DEPTHWISE_MAX_TAPS`] kernel taps.
pub fn depthwise_fits(dims: &ConvDims) -> bool {
    dims.groups == dims.channels
        && dims.out_channels == dims.channels
        && dims.kernel[0] * dims.kernel[1] <= DEPTHWISE_MAX_TAPS
}

/// `act(conv(x, w) + bias)` in f32 on the GPU: `x` `[N, C, H, W]`, `w` `[M, C/groups, kH, kW]`,
/// `bias` `[M]`, result `[N, M, OH, OW]` ([`Conv2dParams::output_shape`]).
pub fn conv2d_f32(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    bias: Option<&GpuTensor>,
    params: &Conv2dParams,
    activation: Activation,
) -> Result<GpuTensor> {
    conv2d_f32_with_path(gpu, x, w, bias, params, activation, ConvPath::Auto)
}

/// [`conv2d_f32`] on the kernel chosen by `path` (tests run both on depthwise shapes).
pub fn conv2d_f32_with_path(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    bias: Option<&GpuTensor>,
    params: &Conv2dParams,
    activation: Activation,
    path: ConvPath,
) -> Result<GpuTensor> {
    const OP: &str = "conv2d_f32";
    let dims = gemm::check_operands(OP, DType::F32, x, w, bias, params)?;
    let y = GpuTensor::uninit(gpu, &dims.output_shape(), DType::F32)?;
    let depthwise = match path {
        ConvPath::Auto => depthwise_fits(&dims),
        ConvPath::ImplicitGemm => false,
        ConvPath::Depthwise if depthwise_fits(&dims) => true,
        ConvPath::Depthwise => {
            return Err(Error::InvalidArgument {
                op: OP,
                detail: format!(
                    "the depthwise kernel needs groups == C == M and at most \
                     {DEPTHWISE_MAX_TAPS} taps; got {dims:?}"
                ),
            })
        }
    };
    if depthwise {
        launch_depthwise(gpu, &dims, params, (x, w, bias, &y), activation)?;
    } else {
        let program = if gemm::reduction_len(&dims).is_multiple_of(4) {
            &CONV2D_F32_VEC4
        } else {
            &CONV2D_F32_SCALAR
        };
        let operands = gemm::GemmOperands::dense((x, w, bias, &y));
        gemm::launch(gpu, program, &dims, params, operands, activation)?;
    }
    Ok(y)
}

/// Records the depthwise kernel: one workgroup per 64×4 output tile of each (image, channel).
fn launch_depthwise(
    gpu: &Gpu,
    dims: &ConvDims,
    params: &Conv2dParams,
    (x, w, bias, y): (&GpuTensor, &GpuTensor, Option<&GpuTensor>, &GpuTensor),
    activation: Activation,
) -> Result<()> {
    let geometry = ConvUniform::new(dims, params.strides, params.pads, params.dilations)?;
    let mut constants = activation.override_constants().to_vec();
    constants.push(("HAS_BIAS", f64::from(u8::from(bias.is_some()))));
    let pipeline = gpu.pipeline(&CONV2D_DEPTHWISE_F32, &constants)?;
    let bindings = [
        (0, Binding::Storage(x.buffer())),
        (1, Binding::Storage(w.buffer())),
        (
            2,
            bias.map_or(Binding::Unused, |bias| Binding::Storage(bias.buffer())),
        ),
        (3, Binding::Storage(y.buffer())),
        (5, Binding::Uniform(bytemuck::bytes_of(&geometry))),
    ];
    let workgroups = [
        to_u32(
            "depthwise column tiles",
            dims.output[1].div_ceil(DEPTHWISE_TILE[0]),
        )?,
        to_u32(
            "depthwise row tiles",
            dims.output[0].div_ceil(DEPTHWISE_TILE[1]),
        )?,
        to_u32("depthwise planes", dims.batch * dims.channels)?,
    ];
    gpu.dispatch(&pipeline, &bindings, workgroups)
}
