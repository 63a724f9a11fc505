//! The matmul family: `C = act(A·B + bias)`, batched, with B optionally transposed, in f32, f16,
//! int8 (W8A8), int8 weight-only ([`w8a32`]) and int4 weight-only precision. Each dtype's file
//! holds its reference adapter and its GPU launcher; the plain f64 reference they all reduce to is
//! in [`mod@reference`].

pub mod chunked;
mod dense;
mod dims;
pub mod f16;
pub mod f32;
pub mod gemv;
pub mod int4;
pub mod int8;
pub mod reference;
pub(crate) mod tiled;
pub mod w8a32;

pub use dims::{MatmulDims, MatmulOptions};
pub use reference::{reference_matmul, MatmulReference};

use crate::device::ShaderProgram;

/// Every shader program of the matmul family (validated by naga in the tests).
pub fn programs() -> Vec<&'static ShaderProgram> {
    let mut programs = vec![&f32::MATMUL_F32_VEC4, &f32::MATMUL_F32_SCALAR];
    programs.extend_from_slice(f16::PROGRAMS);
    programs.extend_from_slice(gemv::PROGRAMS);
    programs.extend_from_slice(int8::PROGRAMS);
    programs.extend_from_slice(int4::PROGRAMS);
    programs.extend_from_slice(w8a32::PROGRAMS);
    programs
}
