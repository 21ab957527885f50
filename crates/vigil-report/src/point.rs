//! `sweep-point.json`: what `exp sweep` records in each point's run folder, and what reports
//! read to group runs into variants and seeds.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ReportError;

/// File name of the point record inside a run folder.
pub const POINT_FILE: &str = vigil_schema::files::SWEEP_POINT;
/// File name of the sweep manifest inside a sweep folder.
pub const SWEEP_FILE: &str = vigil_schema::files::SWEEP;
/// The file whose existence marks a finished run (written last, atomically, by `exp run`).
pub const FINISHED_FILE: &str = vigil_schema::files::FINISHED;

/// One axis value of a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// Dotted config key, as given to `--set`.
    pub key: String,
    /// The value (TOML converted to JSON).
    pub value: serde_json::Value,
    /// How the value appears in the point's label.
    pub display: String,
}

/// Where a point stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointStatus {
    /// Not started.
    Pending,
    /// Handed to a worker or a Slurm array task.
    Running,
    /// Finished: the run's final results file exists.
    Done,
    /// The last attempt failed (see `error`).
    Failed,
}

/// The record of one sweep point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointRecord {
    /// Name of the sweep the point belongs to.
    #[serde(default)]
    pub sweep: String,
    /// Readable name, e.g. `advantage.kind=gdpo,seed=1` (also the folder name).
    pub label: String,
    /// SHA-256 of the point's resolved config: the run's identity.
    pub hash: String,
    /// The axis values, grid keys first, then zip keys.
    pub assignments: Vec<Assignment>,
    /// Status after the last attempt.
    pub status: PointStatus,
    /// Attempts so far (resumed attempts included).
    #[serde(default)]
    pub attempts: u32,
    /// Exit code of the last attempt, when it ran to an exit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PointRecord {
    /// Reads `dir/sweep-point.json`; `None` when absent.
    pub fn read(dir: &Path) -> Result<Option<Self>, ReportError> {
        let path = dir.join(POINT_FILE);
        match std::fs::read_to_string(&path) {
            Ok(s) => serde_json::from_str(&s).map(Some).map_err(|e| ReportError::parse(&path, None, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ReportError::io(&path, e)),
        }
    }

    /// Writes `dir/sweep-point.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        let path = dir.join(POINT_FILE);
        vigil_core::write_json_atomic(&path, self).map_err(|e| ReportError::io(&path, e))
    }

    /// The assignments without `seed_key`: what makes a variant, seeds being replicates. A
    /// sweep over seeds only is one variant, named after the sweep.
    pub fn variant(&self, seed_key: &str) -> String {
        let parts: Vec<String> =
            self.assignments.iter().filter(|a| a.key != seed_key).map(|a| format!("{}={}", a.key, a.display)).collect();
        if parts.is_empty() { self.sweep.clone() } else { parts.join(",") }
    }
}

/// The sweep manifest: its points in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepManifest {
    /// Sweep name (the base config's name).
    pub name: String,
    /// The base config file the sweep was expanded from.
    pub config: String,
    /// Point labels (= folder names) in expansion order.
    pub points: Vec<String>,
}

impl SweepManifest {
    /// Reads `dir/sweep.json`; `None` when absent.
    pub fn read(dir: &Path) -> Result<Option<Self>, ReportError> {
        let path = dir.join(SWEEP_FILE);
        match std::fs::read_to_string(&path) {
            Ok(s) => serde_json::from_str(&s).map(Some).map_err(|e| ReportError::parse(&path, None, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ReportError::io(&path, e)),
        }
    }
}
