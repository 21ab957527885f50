//! The crate's error type.
//!
//! Every variant that comes from a file names the file and, where there is one, the JSON field
//! path (`attack_graph.states.recon.actions[0].next_state`), so a malformed seed can be fixed
//! without a debugger.

use std::path::PathBuf;

use thiserror::Error;

/// Failures while loading seeds, validating configs, generating seeds or starting episodes.
#[derive(Debug, Error)]
pub enum OpenSecError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid JSON or does not match the expected shape.
    #[error("{path}: at `{field}`: {message}")]
    Json {
        /// The file (for JSONL rows: `file:line`).
        path: PathBuf,
        /// Field path inside the document (`.` when the document itself is wrong).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A seed parsed but is inconsistent (dangling artifact id, unknown table, ...).
    #[error("{path}: at `{field}`: {message}")]
    Seed {
        /// The seed or ground-truth file.
        path: PathBuf,
        /// Field path inside the document.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A config value is invalid.
    #[error("opensec config: `{field}`: {message}")]
    Config {
        /// Field path in the `[env]` table.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The selection of seeds is empty.
    #[error("no OpenSec task matches: {0}")]
    NoTasks(String),
}

impl OpenSecError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    pub(crate) fn seed(path: impl Into<PathBuf>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Seed { path: path.into(), field: field.into(), message: message.into() }
    }

    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config { field: field.into(), message: message.into() }
    }
}

impl From<OpenSecError> for vigil_core::EnvError {
    fn from(e: OpenSecError) -> Self {
        vigil_core::EnvError::Env { env: "opensec", source: Box::new(e) }
    }
}
