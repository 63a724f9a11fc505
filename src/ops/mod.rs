//! Operations, one family per module: each holds the CPU reference (the specification) beside the
//! GPU launcher that must match it.

mod activation;
pub mod conv;
pub mod convert;
pub mod elementwise;
pub mod gemm;
pub mod grid;
pub mod indexing;
pub mod layout;
pub mod matmul;
pub mod normalization;
pub mod pooling;
pub mod quantize;
pub mod reduce;
pub mod resize;
pub mod softmax;
pub mod sparse;

pub use activation::{erf, Activation};

use crate::device::ShaderProgram;

/// Every shader program kiln can build, for validation and for warming the pipeline cache.
pub fn all_programs() -> Vec<&'static ShaderProgram> {
    let mut programs = matmul::programs();
    for family in [
        conv::PROGRAMS,
        convert::PROGRAMS,
        elementwise::PROGRAMS,
        gemm::PROGRAMS,
        indexing::PROGRAMS,
        layout::PROGRAMS,
        normalization::PROGRAMS,
        pooling::PROGRAMS,
        quantize::PROGRAMS,
        reduce::PROGRAMS,
        resize::PROGRAMS,
        softmax::PROGRAMS,
        sparse::nm::PROGRAMS,
        sparse::bsr::PROGRAMS,
        crate::bench::roofline::PROGRAMS,
        crate::vision::PROGRAMS,
    ] {
        programs.extend_from_slice(family);
    }
    programs
}

#[cfg(test)]
mod tests {
    use super::all_programs;

    #[test]
    fn every_program_passes_naga_validation() {
        for program in all_programs() {
            if let Err(message) = program.validate() {
                panic!("shader program '{}' is invalid:\n{message}", program.name);
            }
        }
    }

    #[test]
    fn every_shader_file_belongs_to_a_program() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
        let programs = all_programs();
        let mut names = std::collections::HashSet::new();
        for program in &programs {
            assert!(
                names.insert(program.name),
                "two programs are named '{}'",
                program.name
            );
        }
        for entry in std::fs::read_dir(&folder).expect("shaders/ exists") {
            let path = entry.expect("readable entry").path();
            if path.extension().is_some_and(|ext| ext == "wgsl") {
                let text = std::fs::read_to_string(&path).expect("readable shader");
                assert!(
                    programs
                        .iter()
                        .any(|program| program.parts.contains(&text.as_str())),
                    "{} is not part of any shader program, so nothing validates it",
                    path.display()
                );
            }
        }
    }
}
