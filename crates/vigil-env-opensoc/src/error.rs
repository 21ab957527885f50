//! The crate's typed errors.

use std::path::PathBuf;

use thiserror::Error;

/// Why an incident (attacker JSON, hold-out line) does not satisfy the schema. Every variant
/// names the offending field by path, e.g. `events[2].fields.dst_ip`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchemaError {
    /// The text is not JSON at all.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// A required field is absent (or null).
    #[error("`{path}` is missing")]
    Missing {
        /// Field path.
        path: String,
    },
    /// A field the schema does not know.
    #[error("`{path}` is not a known field; expected one of: {expected}")]
    UnknownField {
        /// Field path.
        path: String,
        /// Comma-separated allowed names.
        expected: String,
    },
    /// A value of the wrong JSON type.
    #[error("`{path}` must be {expected}, got {found}")]
    WrongType {
        /// Field path.
        path: String,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// A value of the right type that the schema rejects.
    #[error("`{path}`: {reason}")]
    Invalid {
        /// Field path.
        path: String,
        /// Why.
        reason: String,
    },
}

impl SchemaError {
    /// The field path the error is about (`""` for whole-document errors).
    pub fn path(&self) -> &str {
        match self {
            SchemaError::Json(_) => "",
            SchemaError::Missing { path }
            | SchemaError::UnknownField { path, .. }
            | SchemaError::WrongType { path, .. }
            | SchemaError::Invalid { path, .. } => path,
        }
    }
}

/// Everything that can go wrong in this crate (bad configs, bad data files, bad task ids).
#[derive(Debug, Error)]
pub enum OpenSocError {
    /// A config value that cannot be used.
    #[error("env.{field}: {reason}")]
    Config {
        /// Config field path below `[env]`.
        field: String,
        /// Why.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A line of a JSONL data file (hold-out) is malformed or disagrees with the verifier.
    #[error("{}:{line}: {reason}", path.display())]
    DataLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why.
        reason: String,
    },
    /// A task id this environment did not issue.
    #[error("unknown task `{0}`")]
    UnknownTask(String),
    /// An incident that does not satisfy the schema.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}
