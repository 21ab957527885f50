//! Advantage estimators for group-relative policy optimization.
//!
//! All estimators read a validated [`RewardBatch`] (`groups[i][j][n]` = component `n` of rollout
//! `j` of prompt `i`) and per-component weights, and return one advantage per rollout:
//!
//! | `kind` | baseline | scale |
//! |---|---|---|
//! | `grpo` | group mean of the weighted sum | group std, batch std, or none (`scale`) |
//! | `dr_grpo` | group mean | none (Dr.GRPO, arXiv 2503.20783) |
//! | `gdpo` | per-component group z-score, weighted sum | optional batch whitening (arXiv 2601.05242) |
//! | `rloo` | mean of the other rollouts of the group | none |
//! | `reinforce_pp_baseline` | group mean | batch whitening (REINFORCE++ with baseline) |
//!
//! Every std is Bessel-corrected by default (`std = "sample"`, like `torch.std`) and gets
//! `epsilon` added before dividing. A set of equal values normalizes to exactly 0, never NaN.
//! `compat = "trl" | "verl"` switches every numerical convention (ε value and placement,
//! token-weighted whitening, groups of one, missing values) to that framework's; see [`Compat`].

mod config;
mod estimators;
mod gdpo;
mod raw;
pub mod resolution;
mod stats;

pub use config::{
    AdvantageConfig, Compat, DEFAULT_EPSILON, EpsilonOn, GroupsOfOne, GrpoScale, InvalidEpsilon,
    Missing, StdKind, Whiten,
};
pub use vigil_core::{AdvantageEstimator, BatchError, RewardBatch};
