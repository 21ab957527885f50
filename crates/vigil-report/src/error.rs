//! The report crate's error type: every variant names the file it is about.

use std::path::PathBuf;

use thiserror::Error;

/// Why a report could not be built or written.
#[derive(Debug, Error)]
pub enum ReportError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file (or one line of a JSONL file) does not parse.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line for JSONL files.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// An input folder is neither a run folder nor a sweep folder.
    #[error("{0}: not a run folder (no config.resolved.toml) and no run folders inside")]
    NotARun(PathBuf),
    /// Drawing a figure failed.
    #[error("plot {path}: {message}")]
    Plot {
        /// The figure file.
        path: PathBuf,
        /// The backend's message.
        message: String,
    },
    /// Writing a CSV table failed.
    #[error("{path}: {source}")]
    Csv {
        /// The table file.
        path: PathBuf,
        /// The CSV error.
        #[source]
        source: csv::Error,
    },
    /// A metric could not be computed from the run outputs.
    #[error("{what}: {source}")]
    Metric {
        /// Which number.
        what: String,
        /// The metric error.
        #[source]
        source: vigil_metrics::MetricError,
    },
    /// Bad report options.
    #[error("invalid report option: {0}")]
    Options(String),
}

impl ReportError {
    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
    /// A parse error in `path` (optionally at a line).
    pub fn parse(path: impl Into<PathBuf>, line: Option<usize>, message: impl ToString) -> Self {
        Self::Parse { path: path.into(), line, message: message.to_string() }
    }
}
