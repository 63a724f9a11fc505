//! Checks over every WGSL shader kiln ships: each program passes naga validation, and each file
//! in `shaders/` belongs to a program (so nothing escapes validation).

use crate::device::ShaderProgram;

/// The op families' programs and those of the benchmark and vision modules.
fn all_programs() -> Vec<&'static ShaderProgram> {
    let mut programs = crate::ops::all_programs();
    programs.extend_from_slice(crate::bench::roofline::PROGRAMS);
    programs.extend_from_slice(crate::vision::PROGRAMS);
    programs
}

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
