//! kiln's one error type. Every failure a user can cause (a bad shape, a missing adapter, a missing
//! GPU feature) is a variant here with the data needed to fix it; kiln does not panic on user input.

use crate::tensor::DType;

/// Everything that can go wrong in kiln.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No adapter matched the requested backend and name filter.
    #[error("no GPU adapter found (backend: {backend}, name filter: {filter}). {hint}")]
    NoAdapter {
        /// The backend that was asked for.
        backend: String,
        /// The adapter-name filter in force (`KILN_ADAPTER`), or "none".
        filter: String,
        /// What to do about it.
        hint: String,
    },
    /// A backend name that kiln does not know.
    #[error("unknown backend '{0}': expected one of auto, vulkan, metal, dx12, gl")]
    UnknownBackend(String),
    /// The adapter refused to open a device.
    #[error("could not open a device on adapter '{adapter}': {detail}")]
    RequestDevice {
        /// Adapter name.
        adapter: String,
        /// The driver's reason.
        detail: String,
    },
    /// An operation needs a device feature that this adapter lacks.
    #[error("adapter '{adapter}' lacks {feature}; {hint}")]
    MissingFeature {
        /// Adapter name.
        adapter: String,
        /// The missing feature.
        feature: &'static str,
        /// What to do instead.
        hint: &'static str,
    },
    /// Operand shapes that do not fit together.
    #[error("shape mismatch in {op}: {detail}")]
    ShapeMismatch {
        /// The operation that was called.
        op: &'static str,
        /// Which shapes disagree and how.
        detail: String,
    },
    /// An operand of the wrong element type.
    #[error("dtype mismatch in {op}: expected {expected}, got {got}")]
    DTypeMismatch {
        /// The operation that was called.
        op: &'static str,
        /// The dtype the operation needs.
        expected: DType,
        /// The dtype it was given.
        got: DType,
    },
    /// An argument outside its valid range (a group size, a scale, a zero point).
    #[error("invalid argument to {op}: {detail}")]
    InvalidArgument {
        /// The operation that was called.
        op: &'static str,
        /// What was wrong with the argument.
        detail: String,
    },
    /// A shader that failed to compile or validate.
    #[error("shader '{name}' failed to build: {detail}")]
    Shader {
        /// The shader program's name.
        name: String,
        /// The compiler's message.
        detail: String,
    },
    /// A buffer or dispatch larger than the device allows.
    #[error("{what} needs {requested}, but the device allows at most {limit}")]
    LimitExceeded {
        /// What exceeded the limit.
        what: &'static str,
        /// The size asked for.
        requested: u64,
        /// The device's limit.
        limit: u64,
    },
    /// A tensor that a kernel must bind whole but that is larger than one storage binding may be
    /// (`max_storage_buffer_binding_size`). Only MatMul and Gemm split their weight B into parts
    /// that fit; any other tensor this large (a huge activation) is this error.
    #[error(
        "{location}: {tensor} needs {bytes} bytes in one storage binding, but the device allows \
         at most {limit} (max_storage_buffer_binding_size); only MatMul/Gemm weights are split \
         across bindings, so use a smaller input or batch"
    )]
    TensorTooLarge {
        /// Where: the node (`node 'conv1' (Conv)`), or the dispatch when no node is known.
        location: String,
        /// Which tensor: an input or output name, or the binding slot.
        tensor: String,
        /// The tensor's size.
        bytes: u64,
        /// The device's binding limit (the adapter's, or lower when a test asked for less).
        limit: u64,
    },
    /// Input larger than one of kiln's documented caps ([`crate::limits`]): a tensor, a random
    /// input or a file read, refused before anything of that size is allocated or read.
    #[error("{what} needs {requested}, over kiln's limit of {limit} bytes (set by {setting})")]
    OverLimit {
        /// What is too large: the tensor, input or file, named.
        what: String,
        /// The size it needs.
        requested: String,
        /// The cap in force.
        limit: u64,
        /// Which cap that is and how to raise it: an environment variable, or a format limit.
        setting: String,
    },
    /// A model file (ONNX, Darknet, .kiln) that is malformed: truncated bytes, a wrong type, a
    /// dimension out of range, a cycle, a reference to a value nothing produces.
    #[error("invalid model at {location}: {detail}")]
    InvalidModel {
        /// Where in the model: a node (`node 'conv1' (Conv)`), an initializer, a section.
        location: String,
        /// What is wrong there.
        detail: String,
    },
    /// A well-formed model that uses something kiln does not implement (an op, a dtype, an
    /// attribute value, a dynamic shape on the GPU).
    #[error("unsupported at {location}: {detail}")]
    Unsupported {
        /// Where: the node, or the backend and op.
        location: String,
        /// What kiln lacks.
        detail: String,
    },
    /// A file that could not be read or written.
    #[error("{path}: {detail}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's reason.
        detail: String,
    },
    /// An error the GPU driver or wgpu reported while running work.
    #[error("GPU error: {0}")]
    Gpu(String),
}

/// kiln's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::Io`] for `path` from an `std::io::Error`.
    pub fn io(path: impl AsRef<std::path::Path>, error: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            detail: error.to_string(),
        }
    }
}
