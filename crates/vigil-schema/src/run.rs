//! `run.json` and `eval/<policy>/summary.json`.

use serde::{Deserialize, Serialize};
use vigil_core::{ComponentInfo, EnvMetrics, EnvSummary};
use vigil_metrics::summary::EvalSummary;
use vigil_rewards::{RewardError, RewardSet, RewardsConfig};

/// The environment of a run, as reports need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEnv {
    /// `Environment::name`.
    pub name: String,
    /// Its reward components, in order.
    pub components: Vec<ComponentInfo>,
    /// Its label classes, for classification-style environments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_classes: Option<Vec<String>>,
    /// What its report table shows (`Environment::metrics`).
    pub metrics: EnvMetrics,
}

/// `run.json`: who ran what, written when the run folder is prepared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    /// Run name.
    pub name: String,
    /// Root seed.
    pub seed: u64,
    /// The environment.
    pub env: RunEnv,
    /// `[rewards]`: weights and gates.
    pub rewards: RewardsConfig,
    /// `[eval] baselines`.
    pub baselines: Vec<String>,
}

impl RunInfo {
    /// The run's reward set: the one weighted total ([`RewardSet::weighted_total`]) every
    /// writer and reader uses.
    pub fn reward_set(&self) -> Result<RewardSet, RewardError> {
        RewardSet::new(&self.rewards, &self.env.components)
    }
}

/// Why a policy was evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyRole {
    /// The config's `[policy]` (an evaluation-only run).
    Configured,
    /// The SFT warm-start checkpoint of a training run ("before").
    Warmstart,
    /// The final policy of a training run ("after").
    Trained,
    /// A scripted baseline of `[eval] baselines`.
    Baseline,
    /// A checkpoint evaluated during training.
    During,
}

impl PolicyRole {
    /// Label (and folder) of the warm-start checkpoint's evaluation.
    pub const WARMSTART_LABEL: &'static str = "sft";

    /// Whether the run is about this policy (not a baseline or the warm-start).
    pub fn is_main(self) -> bool {
        matches!(self, PolicyRole::Configured | PolicyRole::Trained)
    }
}

/// `eval/<policy>/summary.json`, and each entry of `eval/comparison.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySummary {
    /// Policy label (its folder under `eval/`).
    pub policy: String,
    /// Why it was evaluated.
    pub role: PolicyRole,
    /// Aggregates, overall and per stage.
    pub summary: EvalSummary,
    /// The environment's own aggregate.
    #[serde(default, skip_serializing_if = "EnvSummary::is_empty")]
    pub env_summary: EnvSummary,
}
