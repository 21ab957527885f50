//! The crate's one error type: every variant names the file, field or message it is about.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong loading a tokenizer folder, rendering a chat or encoding text.
#[derive(Debug, Error)]
pub enum TokenizerError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file is not valid JSON or does not have the expected shape.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Parser error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// `tokenizer.json` was rejected by the `tokenizers` crate.
    #[error("{path}: {message}")]
    TokenizerFile {
        /// The file.
        path: PathBuf,
        /// What `tokenizers` reported.
        message: String,
    },
    /// A field of a config file has a value we cannot use.
    #[error("{path}: field `{field}`: {reason}")]
    Field {
        /// The file.
        path: PathBuf,
        /// The field (dotted path).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `--tokenizer`/model argument is neither a folder nor a model id in the local HF cache.
    #[error("cannot resolve `{spec}`: {reason}")]
    Resolve {
        /// What the user gave.
        spec: String,
        /// Why it did not resolve.
        reason: String,
    },
    /// The folder has no chat template, or one this crate does not render.
    #[error("{path}: {reason}")]
    ChatTemplate {
        /// The file the template came from (or would have come from).
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// The conversation is empty (transformers refuses it too).
    #[error("cannot apply a chat template to an empty conversation")]
    EmptyConversation,
    /// Encoding or decoding failed inside `tokenizers`.
    #[error("{op}: {message}")]
    Codec {
        /// `encode` or `decode`.
        op: &'static str,
        /// What `tokenizers` reported.
        message: String,
    },
    /// Building a tiny tokenizer failed (bad corpus, bad vocabulary size, trainer error).
    #[error("building tokenizer: {0}")]
    Build(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = TokenizerError> = std::result::Result<T, E>;

impl TokenizerError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn json(path: impl Into<PathBuf>, source: serde_json::Error) -> Self {
        Self::Json {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn field(
        path: impl Into<PathBuf>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Field {
            path: path.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}
