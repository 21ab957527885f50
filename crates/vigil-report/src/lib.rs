//! Reports over Vigil run folders and sweeps: the tables and figures of `exp report` and
//! `paper/`.
//!
//! Inputs are only what runs wrote, read through their typed schema (`vigil_schema`):
//! `run.json`, `eval/<policy>/summary.json` and `episodes.jsonl`, the trainer's `metrics.jsonl`,
//! and the sweep's `sweep-point.json`. Runs of a sweep are grouped into *variants* (the point's
//! assignments without the seed axis) whose seeds are replicates. The report knows no
//! environment: each run's `run.json` carries its environment's metric declaration. Outputs
//! (see [`write_report`]):
//!
//! - `tables/*.{md,csv,json}`: every run × policy; the variant comparison with seeded bootstrap
//!   95% intervals; paired tests against a reference variant; training summaries; calibration
//!   (ECE/MCE equal-width and equal-mass, Brier, AUROC) and reliability bins; each environment's
//!   declared table and confusion matrices;
//! - `figures/*.{png,svg}`: training curves per reward component and total (per run, and per
//!   variant as the mean over seeds with a min–max band), comparison bars with CIs, reliability
//!   diagrams, confusion heatmaps, an environment's declared frontier scatter;
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
pub mod sweep_table;
pub mod table;

pub use error::ReportError;
pub use report::{ReportOptions, ReportOutput, Variant, write_report};
