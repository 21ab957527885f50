//! Typed errors. Every data error names the file and the line (or JSONL record) it came from.

use std::path::PathBuf;

use thiserror::Error;

/// A field value outside the dataset's documented format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    /// Not a `{XXXX-XXXXXXXX-XXXXXXXX}` id.
    #[error("bad event id `{0}` (want {{XXXX-XXXXXXXX-XXXXXXXX}})")]
    EventId(String),
    /// Not `AAA0000`.
    #[error("bad user id `{0}` (want three upper-case letters and four digits)")]
    User(String),
    /// Not `PC-0000`.
    #[error("bad pc `{0}` (want PC-0000)")]
    Pc(String),
    /// Not a valid `MM/DD/YYYY HH:MM:SS` date (or out of range).
    #[error("bad date `{0}` (want MM/DD/YYYY HH:MM:SS)")]
    Date(String),
    /// Unknown activity for the file.
    #[error("bad activity `{0}`")]
    Activity(String),
    /// A numeric field did not parse.
    #[error("bad number in `{field}`: `{value}`")]
    Number {
        /// Column name.
        field: &'static str,
        /// The raw value.
        value: String,
    },
    /// A text field is not UTF-8.
    #[error("column `{0}` is not valid UTF-8")]
    NotUtf8(&'static str),
    /// Wrong number of columns.
    #[error("expected {expected} fields, found {found}")]
    FieldCount {
        /// Columns in the header.
        expected: usize,
        /// Columns in the row.
        found: usize,
    },
    /// Unknown source type in an answer file.
    #[error("unknown source type `{0}`")]
    SourceType(String),
}

/// Structural CSV errors; the stream cannot be resynchronised after them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CsvError {
    /// A quoted field runs to the end of the file.
    #[error("quoted field is never closed")]
    UnterminatedQuote,
    /// A record is longer than the configured limit (guards memory on corrupt input).
    #[error("record longer than {limit} bytes")]
    RecordTooLong {
        /// The limit in bytes.
        limit: usize,
    },
}

/// Errors of the CERT environment crate.
#[derive(Debug, Error)]
pub enum CertError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A row does not follow the dataset's format.
    #[error("{path}:{line}: {reason}")]
    BadRow {
        /// The file.
        path: PathBuf,
        /// 1-based line where the record starts.
        line: u64,
        /// What is wrong.
        reason: ValueError,
    },
    /// The CSV structure itself is broken.
    #[error("{path}:{line}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line where the broken record starts.
        line: u64,
        /// What is wrong.
        reason: CsvError,
    },
    /// The header line is not the expected one.
    #[error("{path}:1: expected header `{expected}`, found `{found}`")]
    Header {
        /// The file.
        path: PathBuf,
        /// The documented header.
        expected: String,
        /// What the file has.
        found: String,
    },
    /// Activity files must be in non-decreasing day order for streaming window building.
    #[error("{path}:{line}: row dated {day} after rows dated {current}; activity files must be in date order")]
    OutOfOrder {
        /// The file.
        path: PathBuf,
        /// Line of the offending row.
        line: u64,
        /// Its day.
        day: String,
        /// The day already flushed.
        current: String,
    },
    /// A JSONL record (window split file) is malformed.
    #[error("{path}:{line}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A JSONL record parsed but is inconsistent (duplicate ids, unknown evidence ids, ...).
    #[error("{path}:{line}: {reason}")]
    BadWindow {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A configuration value is out of range.
    #[error("invalid cert config: `{field}` {reason}")]
    Config {
        /// Key path of the field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A required file of the layout is missing.
    #[error("{path}: missing ({what})")]
    Missing {
        /// The expected path.
        path: PathBuf,
        /// What it should contain.
        what: &'static str,
    },
    /// A split cannot be filled as requested.
    #[error("split `{split}`: {reason}")]
    Split {
        /// The split name.
        split: String,
        /// What is missing.
        reason: String,
    },
}

impl CertError {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    /// A config error.
    pub fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Config { field, reason: reason.into() }
    }
}

impl From<CertError> for vigil_core::EnvError {
    fn from(e: CertError) -> Self {
        vigil_core::EnvError::Env { env: "cert", source: Box::new(e) }
    }
}
