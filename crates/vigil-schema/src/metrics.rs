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

/// Pearson correlation of two reward components' raw values over a step's rollouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentCorr {
    /// First component (earlier in the config's order).
    pub a: String,
    /// Second component.
    pub b: String,
    /// Pearson's r in [−1, 1]; `None` (JSON `null`) when it is undefined: fewer than two
    /// rollouts, or either component constant over the step.
    pub r: Option<f64>,
}

/// Share of a step's rollouts one reward-hacking detector flagged (`Environment::detect_hacking`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HackingRate {
    /// Detector name (`cite_spam`, `contain_everything`, ...).
    pub name: String,
    /// Flagged rollouts ÷ all rollouts of the step (dropped groups of dynamic sampling included).
    pub rate: f64,
}

/// Pearson's correlation of `xs` and `ys` (paired; the shorter length is used). `None` when
/// undefined: fewer than two pairs, a non-finite value, or a (numerically) constant side.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n < 2 || xs[..n].iter().chain(&ys[..n]).any(|v| !v.is_finite()) {
        return None;
    }
    let (mx, my) = (
        xs[..n].iter().sum::<f64>() / n as f64,
        ys[..n].iter().sum::<f64>() / n as f64,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs[..n].iter().zip(&ys[..n]) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    // A side whose spread is rounding noise is constant: r would be noise / noise.
    let tiny = |s: f64, m: f64| s <= 1e-18 * n as f64 * (1.0 + m * m);
    if tiny(sxx, mx) || tiny(syy, my) {
        return None;
    }
    Some((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Every pair `(i < j)` of the named columns, in order: `columns[i]` holds component `names[i]`
/// for each rollout.
pub fn component_corr(names: &[String], columns: &[Vec<f64>]) -> Vec<ComponentCorr> {
    let mut out = Vec::new();
    for i in 0..names.len().min(columns.len()) {
        for j in i + 1..names.len().min(columns.len()) {
            out.push(ComponentCorr {
                a: names[i].clone(),
                b: names[j].clone(),
                r: pearson(&columns[i], &columns[j]),
            });
        }
    }
    out
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

impl Timing {
    /// The timing of an RL step from its phase durations and token counts.
    pub fn of_step(rollout_s: f64, update_s: f64, rollout_tokens: u64, train_tokens: u64) -> Self {
        Self {
            rollout_s,
            update_s,
            rollout_tokens_per_s: rollout_tokens as f64 / rollout_s.max(1e-9),
            train_tokens_per_s: train_tokens as f64 / update_s.max(1e-9),
        }
    }
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
    /// Share of the step's groups whose advantages, as the estimator returned them, are all
    /// zero: groups that teach nothing (dropped groups of dynamic sampling count as zero).
    /// GDPO's groups are zero only when every component ties; GRPO's when the totals tie.
    #[serde(default)]
    pub frac_zero_advantage: f64,
    /// Each component, raw.
    pub components: Vec<ComponentStat>,
    /// Pearson correlation of every pair of components over the step's rollouts (all sampled,
    /// dropped groups included): components that move together give GDPO's decoupled
    /// normalization little to separate. Empty in lines written before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub component_corr: Vec<ComponentCorr>,
    /// Reward-hacking detectors over the step's rollouts, i.e. over the samples of the policy
    /// the previous step left (every step, so every checkpoint's samples). Empty for
    /// environments without detectors and in lines written before they existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hacking: Vec<HackingRate>,
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
    /// Self-play: each role's rewards, advantages and episode metrics (empty otherwise, and
    /// absent from lines written before self-play existed; then the fields above describe
    /// every rollout, in self-play every trained unit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleLine>,
}

/// One role's share of a self-play step (the role names are the environment's own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleLine {
    /// Role name.
    pub role: String,
    /// Whether the role's weights were trained this step (false: frozen or scripted).
    pub trained: bool,
    /// Weighted total of the role's components per unit.
    pub reward: Stat,
    /// Each of the role's components, raw, per unit.
    pub components: Vec<ComponentStat>,
    /// Advantages of the role's trained units.
    pub advantage: Stat,
    /// Units (what the role wrote in one branch).
    pub units: usize,
    /// Groups the role's units were compared within.
    pub groups: usize,
    /// Means of the episodes' metrics over the role's units (each over the units that report
    /// it; a unit with several episodes counts their mean).
    pub metrics: std::collections::BTreeMap<String, f64>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_matches_hand_values() {
        // Perfect, perfect negative, and a hand-computed r: x = 1,2,3,4; y = 1,3,2,4 gives
        // sxy = 4, sxx = syy = 5, r = 0.8.
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert!(
            (pearson(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap() - 0.8).abs() < 1e-12
        );
    }

    #[test]
    fn pearson_is_undefined_for_constant_or_short_input() {
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[0.0, 1.0, 2.0]), None);
        assert_eq!(pearson(&[0.0, 1.0, 2.0], &[0.3, 0.3, 0.3]), None);
        assert_eq!(pearson(&[0.1; 8], &[0.1 + 1e-17; 8]), None);
        assert_eq!(pearson(&[1.0], &[2.0]), None);
        assert_eq!(pearson(&[1.0, f64::NAN], &[2.0, 3.0]), None);
    }

    #[test]
    fn component_corr_lists_each_pair_once_and_serializes_undefined_as_null() {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let cols = vec![
            vec![0.0, 1.0, 0.0, 1.0],
            vec![1.0, 0.0, 1.0, 0.0],
            vec![0.5; 4],
        ];
        let c = component_corr(&names, &cols);
        let pairs: Vec<(&str, &str)> = c.iter().map(|p| (p.a.as_str(), p.b.as_str())).collect();
        assert_eq!(pairs, vec![("a", "b"), ("a", "c"), ("b", "c")]);
        assert!((c[0].r.unwrap() + 1.0).abs() < 1e-12);
        assert_eq!((c[1].r, c[2].r), (None, None));
        let json = serde_json::to_string(&c[1]).unwrap();
        assert_eq!(json, r#"{"a":"a","b":"c","r":null}"#);
        assert_eq!(serde_json::from_str::<ComponentCorr>(&json).unwrap(), c[1]);
    }
}
