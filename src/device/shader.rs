//! Shader programs: a kernel is one or more WGSL files from `shaders/` joined in order. This is kiln's
//! one specialisation step beside WGSL `override` constants: a kernel core (the tiled loop) is joined
//! with the loader and store functions for its operand layouts, so every layout combination reuses
//! one core instead of a copy of it. Each part is a whole file; nothing is pasted into the middle of
//! a file, and every joined program is validated by naga in a unit test.

/// One compute shader, assembled from WGSL files.
#[derive(Clone, Copy, Debug)]
pub struct ShaderProgram {
    /// A unique name, used as the pipeline-cache key and in error messages.
    pub name: &'static str,
    /// The WGSL files (their text, from `include_str!`), joined in this order.
    pub parts: &'static [&'static str],
    /// Whether the program needs `wgpu::Features::SHADER_F16` (its first part is `enable f16;`).
    pub needs_f16: bool,
}

impl ShaderProgram {
    /// The program's full WGSL text.
    pub fn source(&self) -> String {
        self.parts.join("\n")
    }

    /// Parses and validates the program with naga, with every capability a device may offer, so a
    /// broken shader fails without a GPU.
    pub fn validate(&self) -> Result<(), String> {
        let module = naga::front::wgsl::parse_str(&self.source())
            .map_err(|error| error.emit_to_string(&self.source()))?;
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .map(|_| ())
        .map_err(|error| error.emit_to_string(&self.source()))
    }
}
