//! `[advantage]` configuration: one serde-tagged variant per estimator.
//!
//! Every variant takes `compat = "vigil" | "trl" | "verl"`, which sets the numerical conventions
//! of that framework (see [`Compat`]); each convention is also a key of its own that overrides
//! the preset. Parsing goes through [`crate::raw`], where unset keys are still `None`, so the
//! values here are always fully resolved.

use serde::{Deserialize, Serialize};

/// Default `epsilon` added to every std before dividing.
pub const DEFAULT_EPSILON: f64 = 1e-6;

/// Which standard deviation to divide by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StdKind {
    /// Bessel-corrected (divide by `n - 1`), as `torch.std` and every peer framework.
    #[default]
    Sample,
    /// Population std (divide by `n`), as `numpy.std`.
    Population,
}

/// How GRPO scales the centred reward.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrpoScale {
    /// Divide by the std of the group (DeepSeekMath GRPO).
    #[default]
    Group,
    /// Divide by the std of all weighted rewards in the batch.
    Batch,
    /// Do not divide (Dr.GRPO).
    None,
}

/// Whose numerical conventions to follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compat {
    /// Vigil's: ε = 1e-6 on the std, batch steps weighted by rollout, groups of one and missing
    /// values rejected.
    #[default]
    Vigil,
    /// TRL's `GRPOTrainer` / `RLOOTrainer`: ε = 1e-4 on the std in every step, groups of one give
    /// 0, missing (None) values are left out of the statistics.
    Trl,
    /// verl's `core_algos`: ε = 1e-6 on the group std; batch whitening (`gdpo`,
    /// `reinforce_pp_baseline`) weighted by response tokens with ε = 1e-8 under the square root
    /// (`masked_whiten`); a group of one has mean 0 and std 1; missing values rejected.
    Verl,
}

/// Where ε goes when dividing by a std.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpsilonOn {
    /// `x / (std + ε)`.
    #[default]
    Std,
    /// `x / sqrt(var + ε)`.
    Variance,
}

/// What the batch-wide whitening step weighs each rollout by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Whiten {
    /// Each rollout counts once.
    #[default]
    Rollouts,
    /// Each rollout counts once per response token (verl's `masked_whiten` over the response
    /// mask: mean `Σ L·x / (T + 1e-8)`, Bessel over the token count `T`); needs lengths, and a
    /// rollout of length 0 gets 0.
    Tokens,
}

/// What a group with a single rollout gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupsOfOne {
    /// An error: no group baseline exists.
    #[default]
    Reject,
    /// Advantage 0 before any batch step (TRL).
    Zero,
    /// Baseline 0 and std 1 (verl): the reward itself, divided by `1 + ε` where the estimator
    /// divides by a group std.
    Raw,
}

/// What a missing (`null`) component value does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// An error naming the value.
    #[default]
    Reject,
    /// Left out of that component's statistics and out of the weighted sum (TRL's NaN
    /// handling); a rollout with every component missing is left out of every statistic and
    /// gets advantage 0.
    Skip,
}

/// The `[advantage]` section: which estimator, with its own knobs only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "crate::raw::RawConfig", into = "crate::raw::RawConfig")]
pub enum AdvantageConfig {
    /// Weighted sum of components, group mean baseline, optional std scaling.
    Grpo {
        /// Std used for scaling.
        scale: GrpoScale,
        /// ε of the std division.
        epsilon: f64,
        /// Where ε goes.
        epsilon_on: EpsilonOn,
        /// Sample or population std.
        std: StdKind,
        /// The preset the other knobs came from.
        compat: Compat,
        /// Groups with a single rollout.
        groups_of_one: GroupsOfOne,
        /// Missing component values.
        missing: Missing,
    },
    /// GRPO without std scaling (same as `grpo` with `scale = "none"`).
    DrGrpo {
        /// The preset the other knobs came from.
        compat: Compat,
        /// Groups with a single rollout.
        groups_of_one: GroupsOfOne,
        /// Missing component values.
        missing: Missing,
    },
    /// Group-decoupled normalization: z-score each component within its group, weighted sum,
    /// then (optionally) whiten over the whole batch.
    Gdpo {
        /// ε of the per-component group std.
        epsilon: f64,
        /// Where that ε goes.
        epsilon_on: EpsilonOn,
        /// Divide each component by its group std (verl's `norm_adv_by_std_in_grpo`).
        group_std: bool,
        /// Apply the batch-wide whitening after the weighted sum.
        batch_norm: bool,
        /// Rollout- or token-weighted batch whitening.
        whiten: Whiten,
        /// ε of the batch whitening.
        batch_epsilon: f64,
        /// Where that ε goes.
        batch_epsilon_on: EpsilonOn,
        /// Sample or population std (both steps).
        std: StdKind,
        /// The preset the other knobs came from.
        compat: Compat,
        /// Groups with a single rollout.
        groups_of_one: GroupsOfOne,
        /// Missing component values.
        missing: Missing,
    },
    /// Leave-one-out baseline, no scaling.
    Rloo {
        /// The preset the other knobs came from.
        compat: Compat,
        /// Groups with a single rollout.
        groups_of_one: GroupsOfOne,
        /// Missing component values.
        missing: Missing,
    },
    /// Group mean baseline, then whitening over the batch.
    ReinforcePpBaseline {
        /// ε of the batch whitening.
        epsilon: f64,
        /// Where that ε goes.
        epsilon_on: EpsilonOn,
        /// Rollout- or token-weighted whitening.
        whiten: Whiten,
        /// Sample or population std.
        std: StdKind,
        /// The preset the other knobs came from.
        compat: Compat,
        /// Groups with a single rollout.
        groups_of_one: GroupsOfOne,
        /// Missing component values.
        missing: Missing,
    },
}

impl Default for AdvantageConfig {
    fn default() -> Self {
        AdvantageConfig::Gdpo {
            epsilon: DEFAULT_EPSILON,
            epsilon_on: EpsilonOn::Std,
            group_std: true,
            batch_norm: true,
            whiten: Whiten::Rollouts,
            batch_epsilon: DEFAULT_EPSILON,
            batch_epsilon_on: EpsilonOn::Std,
            std: StdKind::Sample,
            compat: Compat::Vigil,
            groups_of_one: GroupsOfOne::Reject,
            missing: Missing::Reject,
        }
    }
}

/// A config value that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("advantage.{key} must be finite and >= 0, got {value}")]
pub struct InvalidEpsilon {
    /// `epsilon` or `batch_epsilon`.
    pub key: &'static str,
    /// The value given.
    pub value: f64,
}

impl AdvantageConfig {
    /// Checks values serde cannot (a negative or NaN epsilon).
    pub fn validate(&self) -> Result<(), InvalidEpsilon> {
        let check = |key, value: f64| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(InvalidEpsilon { key, value })
            }
        };
        match *self {
            AdvantageConfig::Grpo { epsilon, .. }
            | AdvantageConfig::ReinforcePpBaseline { epsilon, .. } => check("epsilon", epsilon),
            AdvantageConfig::Gdpo {
                epsilon,
                batch_epsilon,
                ..
            } => {
                check("epsilon", epsilon)?;
                check("batch_epsilon", batch_epsilon)
            }
            AdvantageConfig::DrGrpo { .. } | AdvantageConfig::Rloo { .. } => Ok(()),
        }
    }

    /// The preset this config was resolved from.
    pub fn compat(&self) -> Compat {
        match *self {
            AdvantageConfig::Grpo { compat, .. }
            | AdvantageConfig::DrGrpo { compat, .. }
            | AdvantageConfig::Gdpo { compat, .. }
            | AdvantageConfig::Rloo { compat, .. }
            | AdvantageConfig::ReinforcePpBaseline { compat, .. } => compat,
        }
    }

    /// Whether this estimator reads response lengths (a token-weighted batch step).
    pub fn needs_lengths(&self) -> bool {
        match *self {
            AdvantageConfig::Gdpo {
                batch_norm, whiten, ..
            } => batch_norm && whiten == Whiten::Tokens,
            AdvantageConfig::ReinforcePpBaseline { whiten, .. } => whiten == Whiten::Tokens,
            _ => false,
        }
    }
}
