//! The `[trainer]` section: composes the sub-configs that live beside the code they configure.
//!
//! ```toml
//! [trainer]
//! group_size = 8            # G completions per prompt
//! batch_prompts = 2         # B prompts per step
//! grad_accum = 4            # micro-batches per optimizer update
//! epochs = 1                # optimizer passes over each rollout batch
//! lr = 5e-6
//! warmup_steps = 10
//! schedule = "cosine"       # constant | cosine | linear
//! max_grad_norm = 1.0
//! finetune = { kind = "lora", r = 16, alpha = 32, target_modules = ["q_proj", "v_proj"] }
//! [trainer.loss]            # clip_low/high, ratio, aggregation, beta, kl_estimator
//! [trainer.sft]             # optional warm-start
//! [[trainer.curriculum]]    # ordered stages; without it `steps` over all training tasks
//! stage = "stage1_basic"
//! steps = 200
//! ```

use serde::{Deserialize, Serialize};

use crate::curriculum::StageConfig;
use crate::dynamic::DynamicSamplingConfig;
use crate::error::ConfigError;
use crate::learner::FinetuneConfig;
use crate::loss::LossConfig;
use crate::optim::AdamWConfig;
use crate::rollout::RolloutConfig;
use crate::schedule::{ScheduleKind, check_lr};
use crate::scratch::ScratchConfig;
use crate::selfplay::SelfPlayConfig;
use crate::sft::SftConfig;

fn default_lr() -> f64 {
    1e-5
}
fn default_group() -> usize {
    8
}
fn default_batch() -> usize {
    8
}
fn one() -> usize {
    1
}
fn default_clip_norm() -> f64 {
    1.0
}
fn default_ckpt() -> u64 {
    50
}
fn default_keep() -> usize {
    2
}
fn default_turns() -> u32 {
    32
}
fn constant() -> ScheduleKind {
    ScheduleKind::Constant
}

/// Default RL steps when neither `steps` nor a curriculum is given.
pub const DEFAULT_STEPS: u64 = 100;

/// Hyper-parameters of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainerConfig {
    /// RL steps over all training tasks (exclusive with `curriculum`; default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<u64>,
    /// Ordered curriculum stages, each with its own step budget.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curriculum: Vec<StageConfig>,
    /// Completions per prompt (G).
    #[serde(default = "default_group")]
    pub group_size: usize,
    /// Prompts per step (B).
    #[serde(default = "default_batch")]
    pub batch_prompts: usize,
    /// Optimizer passes over each rollout batch (μ); with more than one, the ratio moves away
    /// from 1 and clipping matters.
    #[serde(default = "one")]
    pub epochs: usize,
    /// Micro-batches each optimizer update accumulates over (memory, not maths: the loss is
    /// normalized over the whole batch).
    #[serde(default = "one")]
    pub grad_accum: usize,
    /// Peak learning rate of the RL phase.
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Linear warm-up steps.
    #[serde(default)]
    pub warmup_steps: u64,
    /// Decay after warm-up.
    #[serde(default = "constant")]
    pub schedule: ScheduleKind,
    /// Final learning rate as a fraction of `lr` (cosine and linear).
    #[serde(default)]
    pub min_lr_ratio: f64,
    /// Clip the global gradient norm to this value (0: no clipping).
    #[serde(default = "default_clip_norm")]
    pub max_grad_norm: f64,
    /// AdamW moments and weight decay (shared by SFT and RL).
    #[serde(default)]
    pub adamw: AdamWConfig,
    /// The loss.
    #[serde(default)]
    pub loss: LossConfig,
    /// LoRA (default: r 16, α 32 on q/k/v/o) or full fine-tuning.
    #[serde(default)]
    pub finetune: FinetuneConfig,
    /// Supervised warm-start on the environment's gold answers, before RL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sft: Option<SftConfig>,
    /// Drop groups without signal and resample (DAPO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_sampling: Option<DynamicSamplingConfig>,
    /// Who generates the rollouts.
    #[serde(default)]
    pub rollout: RolloutConfig,
    /// Write a checkpoint every N optimizer steps of either phase (and at each phase end).
    #[serde(default = "default_ckpt")]
    pub checkpoint_every: u64,
    /// Checkpoints kept on disk (older ones are deleted once a newer one is complete).
    #[serde(default = "default_keep")]
    pub keep_checkpoints: usize,
    /// Safety net on policy turns per rollout episode.
    #[serde(default = "default_turns")]
    pub max_turns: u32,
    /// Build a tokenizer and a random Qwen3 from scratch when `policy.model` does not exist yet
    /// (the CPU quickstart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<ScratchConfig>,
    /// Self-play: every role of a multi-role environment learns from its own reward vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_play: Option<SelfPlayConfig>,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        Self {
            steps: None,
            curriculum: Vec::new(),
            group_size: default_group(),
            batch_prompts: default_batch(),
            epochs: 1,
            grad_accum: 1,
            lr: default_lr(),
            warmup_steps: 0,
            schedule: ScheduleKind::Constant,
            min_lr_ratio: 0.0,
            max_grad_norm: default_clip_norm(),
            adamw: AdamWConfig::default(),
            loss: LossConfig::default(),
            finetune: FinetuneConfig::default(),
            sft: None,
            dynamic_sampling: None,
            rollout: RolloutConfig::default(),
            checkpoint_every: default_ckpt(),
            keep_checkpoints: default_keep(),
            max_turns: default_turns(),
            init: None,
            self_play: None,
        }
    }
}

/// Kept for callers of the first API; every error is a [`ConfigError`] now.
pub type TrainerConfigError = ConfigError;

impl TrainerConfig {
    /// RL steps in total (the curriculum's sum, or `steps`).
    pub fn rl_steps(&self) -> u64 {
        if self.curriculum.is_empty() { self.steps.unwrap_or(DEFAULT_STEPS) } else { self.curriculum.iter().map(|s| s.steps).sum() }
    }

    /// The clipping threshold, if clipping is on.
    pub fn clip(&self) -> Option<f64> {
        (self.max_grad_norm > 0.0).then_some(self.max_grad_norm)
    }

    /// Checks ranges and combinations serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_lr("lr", self.lr, self.min_lr_ratio)?;
        if self.group_size < 2 {
            return Err(ConfigError::new(
                "group_size",
                format!("must be at least 2 (a group baseline needs two rollouts), got {}", self.group_size),
            ));
        }
        for (k, v) in [("batch_prompts", self.batch_prompts), ("epochs", self.epochs), ("grad_accum", self.grad_accum)] {
            if v == 0 {
                return Err(ConfigError::new(k, "must be at least 1"));
            }
        }
        if self.steps.is_some() && !self.curriculum.is_empty() {
            return Err(ConfigError::new("steps", "set either `steps` or `[[trainer.curriculum]]`, not both"));
        }
        if self.steps == Some(0) {
            return Err(ConfigError::new("steps", "must be at least 1"));
        }
        for (i, s) in self.curriculum.iter().enumerate() {
            if s.steps == 0 {
                return Err(ConfigError::new(format!("curriculum[{i}].steps"), "must be at least 1"));
            }
        }
        if !(self.max_grad_norm.is_finite() && self.max_grad_norm >= 0.0) {
            return Err(ConfigError::new("max_grad_norm", format!("must be ≥ 0 (0: off), got {}", self.max_grad_norm)));
        }
        if self.checkpoint_every == 0 {
            return Err(ConfigError::new("checkpoint_every", "must be at least 1"));
        }
        if self.keep_checkpoints == 0 {
            return Err(ConfigError::new("keep_checkpoints", "must be at least 1 (resuming needs one)"));
        }
        if self.max_turns == 0 {
            return Err(ConfigError::new("max_turns", "must be at least 1"));
        }
        self.adamw.validate()?;
        self.loss.validate()?;
        self.finetune.validate()?;
        if let Some(s) = &self.sft {
            s.validate()?;
        }
        if let Some(d) = &self.dynamic_sampling {
            d.validate()?;
        }
        self.rollout.validate(&self.finetune)?;
        if let Some(i) = &self.init {
            i.validate()?;
        }
        if let Some(sp) = &self.self_play {
            sp.validate()?;
            if self.dynamic_sampling.is_some() {
                return Err(ConfigError::new("self_play", "does not combine with dynamic_sampling (every role's groups are kept)"));
            }
            if !matches!(self.rollout, RolloutConfig::Burn {}) {
                return Err(ConfigError::new("self_play", "needs rollout.backend = \"burn\" (each role is played in process)"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_unknown_keys_fail() {
        TrainerConfig::default().validate().unwrap();
        let c: TrainerConfig = toml::from_str("lr = 2e-6\ngroup_size = 4").unwrap();
        assert_eq!((c.lr, c.group_size, c.rl_steps()), (2e-6, 4, DEFAULT_STEPS));
        assert!(toml::from_str::<TrainerConfig>("lrr = 1").unwrap_err().to_string().contains("unknown field `lrr`"));
        let c = TrainerConfig { group_size: 1, ..TrainerConfig::default() };
        assert!(c.validate().unwrap_err().to_string().contains("group_size"));
    }

    #[test]
    fn curriculum_and_steps_are_exclusive() {
        let c: TrainerConfig = toml::from_str(
            "[[curriculum]]\nstage = \"a\"\nsteps = 3\n[[curriculum]]\nstage = \"b\"\nsteps = 4\n",
        )
        .unwrap();
        assert_eq!(c.rl_steps(), 7);
        c.validate().unwrap();
        let c = TrainerConfig { steps: Some(5), ..c };
        assert!(c.validate().unwrap_err().to_string().contains("not both"));
    }

    #[test]
    fn nested_sections_reject_unknown_keys() {
        for bad in ["[loss]\nclip = 0.2", "[adamw]\nbeta = 0.9", "[sft]\nexamples = 10\nlrr = 1", "finetune = { kind = \"lora\", rank = 8 }"] {
            assert!(toml::from_str::<TrainerConfig>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rollout_section_rejects_unknown_keys_by_name() {
        for (toml, key) in [
            ("[rollout]\nbackend = \"burn\"\nconcurency = 4", "concurency"),
            ("[rollout]\nbackend = \"openai\"\nbase_url = \"http://127.0.0.1:8000/v1\"\nmodel = \"m\"\nretries = 2", "retries"),
        ] {
            let err = toml::from_str::<TrainerConfig>(toml).unwrap_err().to_string();
            assert!(err.contains(&format!("unknown field `{key}`")), "{toml}: {err}");
        }
        let c: TrainerConfig = toml::from_str("[rollout]\nbackend = \"burn\"").unwrap();
        assert_eq!(c.rollout, RolloutConfig::Burn {});
    }
}
