//! Placeholder: being built.

use crate::device::ShaderProgram;

/// The shader programs of this kernel family.
pub const PROGRAMS: &[&ShaderProgram] = &[];
