//! Which wgpu backend to use, chosen by option or by the `KILN_BACKEND` environment variable.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A backend request: one graphics API, or `Auto` to let kiln pick the best adapter it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// Any backend; native APIs (Vulkan, Metal, DX12) are preferred over GL.
    #[default]
    Auto,
    /// Vulkan (Linux, Windows, Android; lavapipe on machines without a GPU).
    Vulkan,
    /// Metal (macOS, iOS).
    Metal,
    /// Direct3D 12 (Windows).
    Dx12,
    /// OpenGL / GLES through EGL (llvmpipe on machines without a GPU).
    Gl,
}

impl BackendChoice {
    /// Every choice, in the order `kiln info` lists them.
    pub const ALL: [BackendChoice; 5] = [
        BackendChoice::Auto,
        BackendChoice::Vulkan,
        BackendChoice::Metal,
        BackendChoice::Dx12,
        BackendChoice::Gl,
    ];

    /// The wgpu backend set this choice enables.
    pub fn backends(self) -> wgpu::Backends {
        match self {
            BackendChoice::Auto => wgpu::Backends::all(),
            BackendChoice::Vulkan => wgpu::Backends::VULKAN,
            BackendChoice::Metal => wgpu::Backends::METAL,
            BackendChoice::Dx12 => wgpu::Backends::DX12,
            BackendChoice::Gl => wgpu::Backends::GL,
        }
    }

    /// Reads `KILN_BACKEND`; unset or empty means `Auto`.
    pub fn from_env() -> Result<Self, Error> {
        match std::env::var("KILN_BACKEND") {
            Ok(value) if !value.trim().is_empty() => value.parse(),
            _ => Ok(BackendChoice::Auto),
        }
    }
}

impl FromStr for BackendChoice {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(BackendChoice::Auto),
            "vulkan" | "vk" => Ok(BackendChoice::Vulkan),
            "metal" | "mtl" => Ok(BackendChoice::Metal),
            "dx12" | "d3d12" => Ok(BackendChoice::Dx12),
            "gl" | "gles" | "opengl" => Ok(BackendChoice::Gl),
            _ => Err(Error::UnknownBackend(text.to_string())),
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Vulkan => "vulkan",
            BackendChoice::Metal => "metal",
            BackendChoice::Dx12 => "dx12",
            BackendChoice::Gl => "gl",
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_aliases() {
        assert_eq!(
            "Vulkan".parse::<BackendChoice>().unwrap(),
            BackendChoice::Vulkan
        );
        assert_eq!(
            " gles ".parse::<BackendChoice>().unwrap(),
            BackendChoice::Gl
        );
        assert_eq!(
            "d3d12".parse::<BackendChoice>().unwrap(),
            BackendChoice::Dx12
        );
        assert!(matches!(
            "cuda".parse::<BackendChoice>(),
            Err(Error::UnknownBackend(name)) if name == "cuda"
        ));
    }

    #[test]
    fn display_round_trips() {
        for choice in BackendChoice::ALL {
            assert_eq!(choice.to_string().parse::<BackendChoice>().unwrap(), choice);
        }
    }
}
