//! `metrics.jsonl`: one line per optimizer step of either phase, written by the trainer and
//! read by reports and the TensorBoard writer.
//!
//! Every field but `timing` is a deterministic function of the config and seed (a resumed run
//! writes the same lines as an uninterrupted one); `timing` holds wall-clock rates.

use serde::{Deserialize, Serialize};

/// Mean, std (population), min and max of a sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Stat {
    /// Statistics of `xs` (all zero when empty).
    pub fn of(xs: &[f64]) -> Self {
        if xs.is_empty() {
            return Self::default();
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Self {
            mean,
            std: var.sqrt(),
            min,
            max,
        }
    }
}

/// One reward component's statistics over the step's rollouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentStat {
    /// Component name.
    pub name: String,
    /// Raw (ungated) values.
    #[serde(flatten)]
    pub stat: Stat,
    /// Share of the step's groups (all sampled, dropped ones included) in which this
    /// component's raw value is the same for every rollout: no signal for GDPO.
    #[serde(default)]
    pub frac_zero_std: f64,
    /// Advantages the estimator gives the trained rollouts when only this component is
    /// weighted (its own weight, every other weight 0); absent for weight-0 components and for
    /// steps that trained nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advantage: Option<Stat>,
}

/// Wall-clock numbers (not reproducible).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Seconds generating rollouts.
    pub rollout_s: f64,
    /// Seconds in forward/backward/update.
    pub update_s: f64,
    /// Generated tokens per second.
    pub rollout_tokens_per_s: f64,
    /// Tokens through forward+backward per second.
    pub train_tokens_per_s: f64,
}

/// An RL step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RlLine {
    /// 1-based RL step.
    pub step: u64,
    /// Curriculum stage (`all` without a curriculum).
    pub stage: String,
    /// Learning rate used.
    pub lr: f64,
    /// Weighted total reward (gated values × weights).
    pub reward: Stat,
    /// Mean over the step's groups of the within-group std of the weighted total (TRL's
    /// `reward_std`).
    #[serde(default)]
    pub reward_group_std: f64,
    /// Share of the step's groups whose weighted totals are all equal (TRL's
    /// `frac_reward_zero_std`; dropped groups of dynamic sampling included).
    #[serde(default)]
    pub frac_reward_zero_std: f64,
    /// Each component, raw.
    pub components: Vec<ComponentStat>,
    /// Advantages of the trained rollouts.
    pub advantage: Stat,
    /// Loss of the last optimizer epoch (aggregated as configured).
    pub loss: f64,
    /// Token-mean KL estimate to the reference (0 when β = 0).
    pub kl: f64,
    /// Fraction of trained tokens whose ratio was clipped.
    pub clip_frac: f64,
    /// Of the trained tokens, the fraction clipped below (ratio < 1 − ε_low with a negative
    /// advantage); the rest of `clip_frac` is clipped above.
    #[serde(default)]
    pub clip_low_frac: f64,
    /// Token-mean ratio.
    pub ratio_mean: f64,
    /// Token-mean entropy of the policy on its own tokens (first epoch).
    pub entropy: f64,
    /// Global gradient norm before clipping (last epoch).
    pub grad_norm: f64,
    /// Generated tokens per episode.
    pub completion_tokens: Stat,
    /// Policy turns per episode.
    pub turns: Stat,
    /// Episodes whose last turn ran out of tokens.
    pub truncated_frac: f64,
    /// Episodes whose answers were all in the required format.
    pub format_valid_rate: f64,
    /// Groups sampled (all rounds) and kept for training.
    pub groups_sampled: usize,
    /// Groups trained on.
    pub groups_kept: usize,
    /// Mean |sampler log-prob − recomputed log-prob| on trained tokens (first epoch): how far
    /// the rollout engine is from the trained weights.
    pub logprob_gap: f64,
    /// Tokens generated.
    pub rollout_tokens: u64,
    /// Tokens through forward+backward (all epochs).
    pub train_tokens: u64,
    /// Wall-clock.
    pub timing: Timing,
}

/// A supervised warm-start step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SftLine {
    /// 1-based SFT step.
    pub step: u64,
    /// Epoch (0-based).
    pub epoch: u64,
    /// Learning rate used.
    pub lr: f64,
    /// Token-mean cross-entropy on the gold answers.
    pub loss: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Trained tokens in the batch.
    pub tokens: u64,
    /// Wall-clock.
    pub timing: Timing,
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum MetricsLine {
    /// Supervised warm-start.
    Sft(SftLine),
    /// Reinforcement learning.
    Rl(RlLine),
}
