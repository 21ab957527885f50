//! Evaluation math for Vigil's reports: plain functions on plain data, each unit-tested on
//! hand-computed cases.
//!
//! - [`classification`]: accuracy, per-class precision/recall/F1, macro-F1 (over the classes that
//!   occur, see [`classification::ClassReport`]), confusion matrices.
//! - [`calibration`]: ECE / MCE with equal-width or equal-mass bins, reliability tables, Brier.
//! - [`ranking`]: AUROC (Mann–Whitney, ties averaged).
//! - [`inference`]: seeded bootstrap confidence intervals and paired tests (t, sign-flip) for
//!   comparing variants over seeds.
//! - [`summary`]: aggregation of finished episodes ([`vigil_core::Outcome`]) into the summary that
//!   `exp eval`, the trainer's evaluations and `exp report` share.

pub mod calibration;
pub mod classification;
pub mod inference;
pub mod ranking;
pub mod stats;
pub mod summary;

/// Metric inputs that cannot be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// No sample to compute over.
    #[error("no samples")]
    Empty,
    /// Two parallel inputs differ in length.
    #[error("length mismatch: {left} vs {right}")]
    Length {
        /// First length.
        left: usize,
        /// Second length.
        right: usize,
    },
    /// A probability outside [0, 1] or NaN.
    #[error("probability at index {index} is outside [0, 1]: {value}")]
    Probability {
        /// Index of the sample.
        index: usize,
        /// The value.
        value: f64,
    },
    /// AUROC needs both classes.
    #[error("AUROC needs at least one positive and one negative sample")]
    OneClass,
    /// A gold label outside the class list.
    #[error("gold label `{0}` is not one of the classes")]
    UnknownClass(String),
    /// Zero bins requested.
    #[error("number of bins must be at least 1")]
    NoBins,
    /// A NaN or infinite value where a number was expected.
    #[error("value at index {index} is not finite: {value}")]
    NotFinite {
        /// Index of the sample.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A confidence level outside (0, 1).
    #[error("confidence level must be in (0, 1), got {0}")]
    Level(f64),
}
