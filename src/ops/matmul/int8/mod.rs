//! Int8 W8A8 matmul: int8 activations ([`Q8Activations`](crate::tensor::Q8Activations), one
//! scale and zero point) times int8 weights ([`Q8Weights`](crate::tensor::Q8Weights), `[N, K]`
//! with a scale and zero point per output channel, shared by every batch). The kernel
//! (`shaders/matmul_q8.wgsl`) computes ONNX `MatMulInteger`'s exact i32 accumulator from packed
//! words and stores either that ([`matmul_q8_i32`]) or its dequantized value through the shared
//! bias-and-activation epilogue ([`matmul_q8`]).
//!
//! The inner product of four packed int8 pairs comes from one of two WGSL files that each define
//! `fn dot4_i8(a: u32, b: u32) -> i32`: the `dot4I8Packed` builtin, or a shift-and-multiply
//! unpacking for devices without it ([`Dot4Path`]). `Σ_k a` per activation row, which the
//! zero-point expansion needs, is summed inside the kernel while A is loaded; `Σ_k w` comes with
//! the weights.
//!
//! ```no_run
//! use kiln::device::Gpu;
//! use kiln::ops::matmul::int8::{matmul_q8, Dot4Path, GpuQ8Activations, GpuQ8Weights};
//! use kiln::ops::Activation;
//! use kiln::tensor::{Q8Activations, Q8Scheme, Q8Weights};
//! # fn main() -> kiln::Result<()> {
//! let gpu = Gpu::from_env()?;
//! let values = [0.5, -1.0, 0.25, 2.0, 1.0, -0.5];
//! let weights = Q8Weights::quantize(&values, 2, 3, Q8Scheme::Symmetric)?;
//! let activations = Q8Activations::calibrate(&[1.0, 2.0, 3.0], 1, 3, Q8Scheme::Asymmetric)?;
//! let w = GpuQ8Weights::upload(&gpu, &weights)?;
//! let a = GpuQ8Activations::upload(&gpu, &activations, 1, 1)?;
//! let y = matmul_q8(&gpu, &a, &w, None, Activation::Relu, Dot4Path::preferred(&gpu))?;
//! assert_eq!(y.shape(), [1, 2]);
//! # Ok(()) }
//! ```

mod integer;
mod operands;
mod qlinear;
mod reference;

pub use integer::{integer_weights, matmul_integer, MATMUL_Q8_PACK};
pub use qlinear::{qlinear_matmul, reference_qlinear_matmul, requantize, Requantization};

pub use operands::{GpuQ8Activations, GpuQ8Weights};
pub use reference::{reference_matmul_integer, reference_q8, reference_q8_i32, IntegerProduct};

use crate::device::{Binding, Gpu, GpuBuffer, OverrideConstant, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::matmul::tiled::{self, to_u32, ACTIVATION_WGSL, EPILOGUE_WGSL};
use crate::ops::matmul::MatmulDims;
use crate::ops::Activation;
use crate::tensor::{DType, GpuTensor};

const DOT4_I8_BUILTIN_WGSL: &str = include_str!("../../../../shaders/dot4_i8_builtin.wgsl");
const DOT4_I8_UNPACKED_WGSL: &str = include_str!("../../../../shaders/dot4_i8_unpacked.wgsl");
const MATMUL_Q8_WGSL: &str = include_str!("../../../../shaders/matmul_q8.wgsl");
const STORE_I32_WGSL: &str = include_str!("../../../../shaders/matmul_q8_store_i32.wgsl");
const STORE_F32_WGSL: &str = include_str!("../../../../shaders/matmul_q8_store_f32.wgsl");
const STORE_Q8_WGSL: &str = include_str!("../../../../shaders/matmul_q8_store_q8.wgsl");

/// The longest `K` for which the exact accumulator fits i32: `|a − a_zp|` and `|w − w_zp|` are at
/// most 255, and `32768 · 255² = 2 130 739 200 < 2³¹`. Beyond it the kernel's wrapping i32
/// arithmetic could give a wrong result, so longer `K` is an [`Error::InvalidArgument`].
pub const MAX_K: usize = 32768;

/// Output rows and columns one workgroup computes (`TILE_M`, `TILE_N` in the kernel).
const TILE: usize = 64;

/// i32 accumulators, `dot4I8Packed`.
pub const MATMUL_Q8_I32_BUILTIN: ShaderProgram = ShaderProgram {
    name: "matmul_q8_i32_builtin",
    parts: &[DOT4_I8_BUILTIN_WGSL, MATMUL_Q8_WGSL, STORE_I32_WGSL],
    needs_f16: false,
};

/// i32 accumulators, int8 unpacked by shifts.
pub const MATMUL_Q8_I32_UNPACKED: ShaderProgram = ShaderProgram {
    name: "matmul_q8_i32_unpacked",
    parts: &[DOT4_I8_UNPACKED_WGSL, MATMUL_Q8_WGSL, STORE_I32_WGSL],
    needs_f16: false,
};

/// Dequantized f32 output with bias and activation, `dot4I8Packed`.
pub const MATMUL_Q8_F32_BUILTIN: ShaderProgram = ShaderProgram {
    name: "matmul_q8_f32_builtin",
    parts: &[
        DOT4_I8_BUILTIN_WGSL,
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        MATMUL_Q8_WGSL,
        STORE_F32_WGSL,
    ],
    needs_f16: false,
};

/// Dequantized f32 output with bias and activation, int8 unpacked by shifts.
pub const MATMUL_Q8_F32_UNPACKED: ShaderProgram = ShaderProgram {
    name: "matmul_q8_f32_unpacked",
    parts: &[
        DOT4_I8_UNPACKED_WGSL,
        ACTIVATION_WGSL,
        EPILOGUE_WGSL,
        MATMUL_Q8_WGSL,
        STORE_F32_WGSL,
    ],
    needs_f16: false,
};

/// Requantized int8 or uint8 output (QLinearMatMul), `dot4I8Packed`.
pub const MATMUL_Q8_Q8_BUILTIN: ShaderProgram = ShaderProgram {
    name: "matmul_q8_q8_builtin",
    parts: &[DOT4_I8_BUILTIN_WGSL, MATMUL_Q8_WGSL, STORE_Q8_WGSL],
    needs_f16: false,
};

/// Requantized int8 or uint8 output (QLinearMatMul), int8 unpacked by shifts.
pub const MATMUL_Q8_Q8_UNPACKED: ShaderProgram = ShaderProgram {
    name: "matmul_q8_q8_unpacked",
    parts: &[DOT4_I8_UNPACKED_WGSL, MATMUL_Q8_WGSL, STORE_Q8_WGSL],
    needs_f16: false,
};

/// The shader programs of this kernel family.
pub const PROGRAMS: &[&ShaderProgram] = &[
    &MATMUL_Q8_I32_BUILTIN,
    &MATMUL_Q8_I32_UNPACKED,
    &MATMUL_Q8_F32_BUILTIN,
    &MATMUL_Q8_F32_UNPACKED,
    &MATMUL_Q8_Q8_BUILTIN,
    &MATMUL_Q8_Q8_UNPACKED,
    &MATMUL_Q8_PACK,
];

/// How the kernel multiplies four packed int8 pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dot4Path {
    /// WGSL's `dot4I8Packed` (one instruction where the hardware has it); needs the
    /// `packed_4x8_integer_dot_product` language feature ([`crate::device::Capabilities`]).
    Builtin,
    /// Each byte sign-extended by shifts, then four i32 multiply-adds: any device.
    Unpacked,
}

impl Dot4Path {
    /// [`Dot4Path::Builtin`] where the device's WGSL has `dot4I8Packed`, else
    /// [`Dot4Path::Unpacked`].
    pub fn preferred(gpu: &Gpu) -> Self {
        if gpu.capabilities().packed_dot4 {
            Dot4Path::Builtin
        } else {
            Dot4Path::Unpacked
        }
    }

    /// Fails with [`Error::MissingFeature`] when this path needs a WGSL feature `gpu` lacks.
    pub fn check_supported(self, gpu: &Gpu) -> Result<()> {
        if self == Dot4Path::Builtin && !gpu.capabilities().packed_dot4 {
            return Err(Error::MissingFeature {
                adapter: gpu.info().name.clone(),
                feature: "WGSL packed_4x8_integer_dot_product",
                hint: "use Dot4Path::Unpacked (Dot4Path::preferred picks it on such devices)",
            });
        }
        Ok(())
    }
}

/// Fails with [`Error::InvalidArgument`] when a reduction of length `k` could overflow the i32
/// accumulators of the int8 kernels (`k` > [`MAX_K`]).
pub(crate) fn check_k_limit(op: &'static str, k: usize) -> Result<()> {
    if k > MAX_K {
        return Err(Error::InvalidArgument {
            op,
            detail: format!("K = {k} exceeds {MAX_K}, beyond which i32 accumulators can overflow"),
        });
    }
    Ok(())
}

/// What the kernel stores.
enum Output<'a> {
    /// The exact accumulators.
    I32,
    /// `act(a_scale · w_scale · acc + bias)`.
    F32 {
        a_scale: f32,
        bias: Option<&'a GpuTensor>,
        activation: Activation,
    },
    /// Requantized to int8 or uint8 (QLinearMatMul).
    Q8(qlinear::DeviceRequantization<'a>),
}

/// The kernel's A operand, wherever it came from: `batch · M` int8 rows of `K`, each padded to
/// whole words, and its zero points (i32, one or one per row of `M`) on the device.
struct ActivationRows<'a> {
    /// Independent products.
    batch: usize,
    /// Rows per product.
    m: usize,
    /// The reduction length.
    k: usize,
    /// The padded rows, four values per word.
    data: &'a GpuBuffer,
    /// One i32 zero point, or `m` of them.
    zero_points: &'a GpuBuffer,
    /// Whether `zero_points` holds one per row.
    zero_point_per_row: bool,
}

impl ActivationRows<'_> {
    /// `[M, K]` when `batch == 1`, else `[batch, M, K]`.
    fn shape(&self) -> Vec<usize> {
        if self.batch == 1 {
            vec![self.m, self.k]
        } else {
            vec![self.batch, self.m, self.k]
        }
    }
}

/// `Q8Params` in `matmul_q8.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Q8Params {
    m: u32,
    n: u32,
    k: u32,
    k_words: u32,
    last_word_mask: u32,
    a_zero_point_per_row: u32,
    a_scale: f32,
    y_zero_point: i32,
}

impl Q8Params {
    /// The kernel's parameters for `dims`, after checking that every index it forms fits u32.
    fn new(dims: &MatmulDims, a: &ActivationRows, output: &Output) -> Result<Self> {
        let k_words = dims.k.div_ceil(4);
        to_u32("int8 matmul A words", dims.batch * dims.m * k_words)?;
        to_u32("int8 matmul W words", dims.n * k_words)?;
        to_u32("int8 matmul output elements", dims.batch * dims.m * dims.n)?;
        Ok(Q8Params {
            m: to_u32("int8 matmul M", dims.m)?,
            n: to_u32("int8 matmul N", dims.n)?,
            k: to_u32("int8 matmul K", dims.k)?,
            k_words: to_u32("int8 matmul K words", k_words)?,
            last_word_mask: match dims.k % 4 {
                0 => u32::MAX,
                bytes => (1u32 << (8 * bytes)) - 1,
            },
            a_zero_point_per_row: u32::from(a.zero_point_per_row),
            a_scale: match output {
                Output::F32 { a_scale, .. } => *a_scale,
                // The other stores do not read the scale.
                Output::I32 | Output::Q8(_) => 1.0,
            },
            y_zero_point: match output {
                Output::Q8(requant) => requant.y_zero_point,
                Output::I32 | Output::F32 { .. } => 0,
            },
        })
    }
}

/// ONNX `MatMulInteger` on the GPU: the exact i32 `Σ_k (a − a_zp)·(w[n] − w_zp[n])`, shaped
/// `[M, N]` (batch 1) or `[batch, M, N]`. `K` of `a` and `w` must agree ([`Error::ShapeMismatch`])
/// and be at most [`MAX_K`]. Reference: [`reference_q8_i32`].
pub fn matmul_q8_i32(
    gpu: &Gpu,
    a: &GpuQ8Activations,
    w: &GpuQ8Weights,
    path: Dot4Path,
) -> Result<GpuTensor> {
    launch("matmul_q8_i32", gpu, &a.rows(), w, Output::I32, path)
}

/// The int8 matmul dequantized to f32: `act(a_scale · w_scale[n] · acc + bias[n])` with `acc` as
/// in [`matmul_q8_i32`] and `bias` f32 of shape `[N]`. Reference: [`reference_q8`].
pub fn matmul_q8(
    gpu: &Gpu,
    a: &GpuQ8Activations,
    w: &GpuQ8Weights,
    bias: Option<&GpuTensor>,
    activation: Activation,
    path: Dot4Path,
) -> Result<GpuTensor> {
    const OP: &str = "matmul_q8";
    tiled::check_bias(OP, bias, w.n())?;
    let output = Output::F32 {
        a_scale: a.scale(),
        bias,
        activation,
    };
    launch(OP, gpu, &a.rows(), w, output, path)
}

/// The program for `path` and `output`, or why the device cannot run it.
fn program(gpu: &Gpu, path: Dot4Path, output: &Output) -> Result<&'static ShaderProgram> {
    path.check_supported(gpu)?;
    Ok(match (output, path) {
        (Output::I32, Dot4Path::Builtin) => &MATMUL_Q8_I32_BUILTIN,
        (Output::I32, Dot4Path::Unpacked) => &MATMUL_Q8_I32_UNPACKED,
        (Output::F32 { .. }, Dot4Path::Builtin) => &MATMUL_Q8_F32_BUILTIN,
        (Output::F32 { .. }, Dot4Path::Unpacked) => &MATMUL_Q8_F32_UNPACKED,
        (Output::Q8(_), Dot4Path::Builtin) => &MATMUL_Q8_Q8_BUILTIN,
        (Output::Q8(_), Dot4Path::Unpacked) => &MATMUL_Q8_Q8_UNPACKED,
    })
}

/// Checks the operands, then records one dispatch that writes a new output tensor.
fn launch(
    op: &'static str,
    gpu: &Gpu,
    a: &ActivationRows,
    w: &GpuQ8Weights,
    output: Output<'_>,
    path: Dot4Path,
) -> Result<GpuTensor> {
    let a_shape = a.shape();
    let dims = MatmulDims::infer(op, &a_shape, &[w.n(), w.k()], true)?;
    check_k_limit(op, dims.k)?;
    let program = program(gpu, path, &output)?;
    let params = Q8Params::new(&dims, a, &output)?;
    let dtype = match &output {
        Output::I32 => DType::I32,
        Output::F32 { .. } => DType::F32,
        Output::Q8(requant) => requant.output,
    };
    let c = GpuTensor::uninit(gpu, &dims.output_shape(a_shape.len()), dtype)?;
    let mut bindings = vec![
        (0, Binding::Storage(a.data)),
        (1, Binding::Storage(w.data())),
        (3, Binding::Storage(c.buffer())),
        (4, Binding::Uniform(bytemuck::bytes_of(&params))),
        (5, Binding::Storage(w.row_sums())),
        (6, Binding::Storage(w.zero_points())),
        (8, Binding::Storage(a.zero_points)),
    ];
    let mut constants: Vec<OverrideConstant> = Vec::new();
    if let Output::Q8(requant) = &output {
        gpu.clear(c.buffer());
        constants.extend(requant.override_constants());
        bindings.push((2, requant.bias_binding()));
        bindings.push((7, Binding::Storage(requant.multipliers)));
    }
    if let Output::F32 {
        bias, activation, ..
    } = output
    {
        constants.extend(activation.override_constants());
        constants.push(("HAS_BIAS", f64::from(u8::from(bias.is_some()))));
        let bias_binding = bias.map_or(Binding::Unused, |bias| Binding::Storage(bias.buffer()));
        bindings.push((2, bias_binding));
        bindings.push((7, Binding::Storage(w.scales())));
    }
    let pipeline = gpu.pipeline(program, &constants)?;
    let workgroups = [
        to_u32("int8 matmul column tiles", dims.n.div_ceil(TILE))?,
        to_u32("int8 matmul row tiles", dims.m.div_ceil(TILE))?,
        to_u32("int8 matmul batch", dims.batch)?,
    ];
    gpu.dispatch(&pipeline, &bindings, workgroups)?;
    Ok(c)
}
