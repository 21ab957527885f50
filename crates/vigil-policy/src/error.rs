//! The crate's typed error: every failure names the file, tensor or field it is about.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong while loading, running or saving a Qwen3 model or adapter.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file (config.json, index, adapter_config.json) does not parse.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A config field is missing or has a bad value.
    #[error("{path}: field `{field}`: {message}")]
    Config {
        /// The config file (or `<config>` for in-memory values).
        path: PathBuf,
        /// The offending field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A config option that this implementation does not support (rejected rather than ignored).
    #[error("{path}: unsupported option `{field}`: {message}")]
    Unsupported {
        /// The config file.
        path: PathBuf,
        /// The option.
        field: String,
        /// Why it is rejected.
        message: String,
    },
    /// A safetensors file is malformed or truncated.
    #[error("{path}: {message}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A tensor in a checkpoint or adapter is unusable (bad dtype, truncated data, ...).
    #[error("{path}: tensor `{tensor}`: {message}")]
    Tensor {
        /// The file holding the tensor.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// What is wrong.
        message: String,
    },
    /// A tensor the model needs is in none of the checkpoint files.
    #[error("{path}: missing tensor `{tensor}`")]
    MissingTensor {
        /// The checkpoint folder or file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
    },
    /// A checkpoint holds a tensor the model does not know.
    #[error("{path}: unexpected tensor `{tensor}`")]
    UnexpectedTensor {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
    },
    /// A tensor has the wrong shape for the config.
    #[error("{path}: tensor `{tensor}` has shape {found:?}, expected {expected:?}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// Shape in the file.
        found: Vec<usize>,
        /// Shape the config implies.
        expected: Vec<usize>,
    },
    /// A model path or Hugging Face id could not be resolved locally.
    #[error("model `{spec}` not found: {message}")]
    NotFound {
        /// What the user asked for.
        spec: String,
        /// Where we looked.
        message: String,
    },
    /// A bad argument to a model call (empty prompt, token id out of range, ...).
    #[error("bad input: {0}")]
    Input(String),
    /// A policy config value is invalid.
    #[error("policy config: field `{field}`: {message}")]
    PolicyConfig {
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The device cannot compute in the requested dtype (bf16 on a wgpu device without
    /// bf16 arithmetic, such as Mesa lavapipe or any WGSL-only adapter).
    #[error(
        "compute dtype `{dtype}` is not supported by this device (burn reports no general {dtype} usage); use f32"
    )]
    DeviceDtype {
        /// The dtype (`bfloat16`, `float16`).
        dtype: String,
    },
    /// Tokenizer or chat-template failure.
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] vigil_tokenizer::TokenizerError),
}

/// The crate's result type.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn config(
        path: impl Into<PathBuf>,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        Self::Config {
            path: path.into(),
            field: field.into(),
            message: message.into(),
        }
    }
    pub(crate) fn unsupported(
        path: impl Into<PathBuf>,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        Self::Unsupported {
            path: path.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}
