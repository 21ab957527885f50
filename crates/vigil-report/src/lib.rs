//! Reports over Vigil run folders and sweeps: the tables and figures of `exp report` and
//! `paper/`.
//!
//! Inputs are only what runs wrote: `config.resolved.toml`, `eval/<policy>/summary.json` and
//! `episodes.jsonl`, the trainer's `metrics.jsonl`, and the sweep's `sweep-point.json`. Runs of
//! a sweep are grouped into *variants* (the point's assignments without the seed axis) whose
//! seeds are replicates. Outputs (see [`write_report`]):
//!
//! - `tables/*.{md,csv,json}`: every run × policy; the variant comparison with seeded bootstrap
//!   95% intervals; paired tests against a reference variant; training summaries; calibration
//!   (ECE/MCE equal-width and equal-mass, Brier, AUROC) and reliability bins; the OpenSec
//!   frontier table, the OpenSOC table and confusion matrices, the CERT (SOC Narrative) table;
//! - `figures/*.{png,svg}`: training curves per reward component and total (per run, and per
//!   variant as the mean over seeds with a min–max band), comparison bars with CIs, reliability
//!   diagrams, confusion heatmaps, the OpenSec containment/false-positive frontier; per-role
//!   curves and a first/last-step table for self-play runs;
//! - `report.md`: every table inline and every figure linked.

mod calib;
mod compare;
mod curves;
mod envs;
mod error;
pub mod load;
pub mod paper;
pub mod plot;
pub mod point;
mod report;
mod roles;
pub mod sweep_table;
pub mod table;

pub use error::ReportError;
pub use report::{ReportOptions, ReportOutput, Variant, write_report};
