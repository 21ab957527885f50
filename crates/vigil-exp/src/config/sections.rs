//! The experiment config's sections. Pluggable parts are serde-tagged enums defined next to what
//! they configure; this file only composes them.

use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use vigil_advantage::AdvantageConfig;
use vigil_core::Split;
use vigil_rewards::RewardsConfig;
use vigil_trainer::TrainerConfig;

pub(crate) use crate::sweep::SweepConfig;
use crate::wiring::{EnvConfig, PolicyConfig};

/// A whole experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExperimentConfig {
    /// Run name; the run folder is `<output.dir>/<name>`. Defaults to the config file's stem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Root seed of every random choice in the run.
    #[serde(default)]
    pub seed: u64,
    /// The environment.
    pub env: EnvConfig,
    /// The policy being evaluated or trained.
    pub policy: PolicyConfig,
    /// Which reward components count, and how much.
    #[serde(default)]
    pub rewards: RewardsConfig,
    /// The advantage estimator.
    #[serde(default)]
    pub advantage: AdvantageConfig,
    /// Training; absent means `exp run` only evaluates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trainer: Option<TrainerConfig>,
    /// Evaluation.
    #[serde(default)]
    pub eval: EvalConfig,
    /// Ablation axes for `exp sweep`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepConfig>,
    /// Where results go.
    #[serde(default)]
    pub output: OutputConfig,
}

impl ExperimentConfig {
    /// Checks what serde cannot; every section validates itself.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        self.advantage.validate().context("[advantage]")?;
        self.eval.validate().context("[eval]")?;
        if let Some(t) = &self.trainer {
            t.validate().context("[trainer]")?;
            anyhow::ensure!(
                matches!(self.policy, PolicyConfig::Qwen3(_)),
                "[trainer] trains a model: it needs [policy] kind = \"qwen3\", not `{}`",
                self.policy.label()
            );
        }
        self.env.validate().context("[env]")?;
        self.policy.validate().context("[policy]")?;
        if let Some(s) = &self.sweep {
            s.validate().context("[sweep]")?;
        }
        Ok(())
    }
}

fn default_split() -> Split {
    Split::Eval
}
fn one() -> usize {
    1
}
fn default_batch() -> usize {
    16
}
fn default_max_turns() -> u32 {
    64
}

/// The `[eval]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvalConfig {
    /// Which split to evaluate on (the hold-out by default).
    #[serde(default = "default_split")]
    pub split: Split,
    /// Evaluate only the first N tasks of the split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Episodes per task (different seeds), for sampled policies.
    #[serde(default = "one")]
    pub episodes_per_task: usize,
    /// Scripted baselines evaluated next to the policy for comparison (names as in the
    /// environment's baseline list).
    #[serde(default)]
    pub baselines: Vec<String>,
    /// Conversations per policy call.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Safety net on policy turns per episode.
    #[serde(default = "default_max_turns")]
    pub max_turns: u32,
    /// Evaluate every N training steps (0: only at the end).
    #[serde(default)]
    pub every_steps: u32,
    /// Sampling temperature of model policies during evaluation (0: greedy), instead of
    /// `[policy] temperature`, which then only drives training rollouts. Scripted baselines
    /// are unaffected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Self-play runs (`[trainer.self_play]` with every role shared): episodes of the whole
    /// game each evaluated checkpoint plays on fixed briefs of the first curriculum stage
    /// (`eval/self-play.md`; default 64, 0 skips it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_play_episodes: Option<usize>,
    /// Also play the game with the roles split between the warm-start and the trained
    /// checkpoint (the first role from one, the others from the other): the trained defender
    /// on the trained attacker's incidents against the warm-start defender on the same ones
    /// (default true).
    #[serde(default = "cross_default")]
    pub self_play_cross: bool,
}

fn cross_default() -> bool {
    true
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            split: default_split(),
            limit: None,
            episodes_per_task: 1,
            baselines: Vec::new(),
            batch_size: default_batch(),
            max_turns: default_max_turns(),
            every_steps: 0,
            temperature: None,
            self_play_episodes: None,
            self_play_cross: true,
        }
    }
}

impl EvalConfig {
    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.episodes_per_task >= 1,
            "episodes_per_task must be at least 1"
        );
        anyhow::ensure!(self.batch_size >= 1, "batch_size must be at least 1");
        anyhow::ensure!(self.max_turns >= 1, "max_turns must be at least 1");
        anyhow::ensure!(self.limit != Some(0), "limit must be at least 1 when set");
        if let Some(t) = self.temperature {
            anyhow::ensure!(
                t.is_finite() && t >= 0.0,
                "temperature must be ≥ 0 (0 = greedy), got {t}"
            );
        }
        Ok(())
    }
}

fn default_runs_dir() -> PathBuf {
    PathBuf::from("runs")
}

/// The `[output]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutputConfig {
    /// Parent folder of run folders.
    #[serde(default = "default_runs_dir")]
    pub dir: PathBuf,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self {
            dir: default_runs_dir(),
        }
    }
}
