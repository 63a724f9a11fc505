//! Placeholder: being built.

use crate::device::ShaderProgram;

/// The shader programs of this op family.
pub const PROGRAMS: &[&ShaderProgram] = &[];
