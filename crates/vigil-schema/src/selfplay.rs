//! `eval/self-play.json`: the whole self-play game played by each evaluated checkpoint (every
//! role with the same weights) on a fixed set of briefs, so each role's rates can be compared
//! between the warm-start and the trained policy on the same episodes (training curves mix
//! the policy's drift with the sampling of each step's few briefs).

use serde::{Deserialize, Serialize};

/// The evaluation of every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfPlayEval {
    /// The training stage the briefs come from (`None`: every stage).
    pub stage: Option<String>,
    /// Episodes per checkpoint (the same briefs and seeds for each).
    pub episodes: usize,
    /// One entry per evaluated checkpoint, in comparison order.
    pub policies: Vec<SelfPlayPolicy>,
    /// Cross-play: the same briefs with the roles split between checkpoints (e.g. the trained
    /// attacker's incidents triaged by the warm-start defender), so a role is compared on the
    /// incidents of one fixed opponent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cross: Vec<SelfPlayCross>,
}

/// One game with a checkpoint per role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfPlayCross {
    /// The checkpoint label playing each role, in the environment's role order.
    pub players: Vec<RolePlayer>,
    /// Each role's metrics, in the environment's role order.
    pub roles: Vec<SelfPlayRole>,
}

/// Which checkpoint played a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePlayer {
    /// Role name.
    pub role: String,
    /// Checkpoint label (as in [`SelfPlayPolicy::policy`]).
    pub policy: String,
}

/// One checkpoint's game.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfPlayPolicy {
    /// Label, as in `comparison.json` (`sft`, the estimator's name).
    pub policy: String,
    /// Each role's metrics, in the environment's role order.
    pub roles: Vec<SelfPlayRole>,
}

/// One role's metrics over the episodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfPlayRole {
    /// Role name (`attacker`, `defender`).
    pub role: String,
    /// The role's declared metrics.
    pub metrics: Vec<SelfPlayMetric>,
}

/// A metric an episode reports only when it applies (OpenSOC's `attacker_fooled` only for a
/// plausible incident), so both denominators are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfPlayMetric {
    /// Metric name, as in the outcomes.
    pub name: String,
    /// Episodes that reported it.
    pub reported: usize,
    /// Mean over those episodes (`None` when none did).
    pub mean: Option<f64>,
    /// Sum over all episodes divided by their number (an absent value counts 0): e.g. the
    /// share of all crafts that were plausible, where `mean` is the share of schema-valid ones.
    pub per_episode: f64,
}
