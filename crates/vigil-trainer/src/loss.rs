//! The policy-gradient loss over per-token log-probs: clipped surrogate (token- or
//! sequence-level ratio, asymmetric clip), KL to a frozen reference (k1/k2/k3 with β), and the
//! three loss aggregations of the GRPO family.
//!
//! Aggregation is expressed as per-token weights computed on the host from the masks of the
//! *whole* optimizer batch ([`aggregation_weights`]), so that splitting the batch into
//! micro-batches and accumulating gradients gives exactly the full-batch gradient.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

fn default_clip() -> f64 {
    0.2
}

/// Importance ratio granularity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatioLevel {
    /// `π_θ(o_t)/π_old(o_t)` per token (PPO, GRPO, DAPO).
    #[default]
    Token,
    /// `exp(mean_t log π_θ/π_old)` per sequence, broadcast to its tokens (GSPO).
    Sequence,
}

/// How per-token losses become one number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Mean over every valid token of the batch (DAPO): long sequences weigh more.
    TokenMean,
    /// Mean over tokens within each sequence, then mean over sequences (GRPO).
    #[default]
    SeqMeanTokenMean,
    /// Sum over tokens within each sequence divided by a constant length, then mean over
    /// sequences (Dr.GRPO): no length bias in either direction.
    SeqMeanTokenSumNorm,
}

/// Estimator of `KL(π_θ ‖ π_ref)` from samples of `π_θ`, per token, with `d = log π_ref − log π_θ`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KlEstimator {
    /// `−d`: unbiased, high variance, can be negative.
    K1,
    /// `d²/2`: biased, low variance, non-negative.
    K2,
    /// `eᵈ − d − 1`: unbiased and non-negative (DeepSeekMath GRPO).
    #[default]
    K3,
}

/// The `[trainer.loss]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossConfig {
    /// Lower clip range ε_low: the ratio is clipped below at `1 − clip_low`.
    #[serde(default = "default_clip")]
    pub clip_low: f64,
    /// Upper clip range ε_high: the ratio is clipped above at `1 + clip_high` (DAPO: 0.28).
    #[serde(default = "default_clip")]
    pub clip_high: f64,
    /// Token- or sequence-level importance ratio.
    #[serde(default)]
    pub ratio: RatioLevel,
    /// Loss aggregation.
    #[serde(default)]
    pub aggregation: Aggregation,
    /// The constant length of `seq_mean_token_sum_norm` (default: the policy's
    /// `max_new_tokens`); rejected with the other aggregations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub norm_len: Option<usize>,
    /// KL coefficient β (0: no reference forward at all).
    #[serde(default)]
    pub beta: f64,
    /// KL estimator.
    #[serde(default)]
    pub kl_estimator: KlEstimator,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self {
            clip_low: default_clip(),
            clip_high: default_clip(),
            ratio: RatioLevel::Token,
            aggregation: Aggregation::SeqMeanTokenMean,
            norm_len: None,
            beta: 0.0,
            kl_estimator: KlEstimator::K3,
        }
    }
}

impl LossConfig {
    /// Range checks.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.clip_low.is_finite() && self.clip_low > 0.0 && self.clip_low < 1.0) {
            return Err(ConfigError::new(
                "loss.clip_low",
                format!("must be in (0, 1), got {}", self.clip_low),
            ));
        }
        if !(self.clip_high.is_finite() && self.clip_high > 0.0) {
            return Err(ConfigError::new(
                "loss.clip_high",
                format!("must be > 0, got {}", self.clip_high),
            ));
        }
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return Err(ConfigError::new(
                "loss.beta",
                format!("must be ≥ 0, got {}", self.beta),
            ));
        }
        match (self.aggregation, self.norm_len) {
            (Aggregation::SeqMeanTokenSumNorm, Some(0)) => {
                Err(ConfigError::new("loss.norm_len", "must be ≥ 1"))
            }
            (Aggregation::SeqMeanTokenSumNorm, _) | (_, None) => Ok(()),
            (a, Some(_)) => Err(ConfigError::new(
                "loss.norm_len",
                format!("only applies to aggregation = \"seq_mean_token_sum_norm\", not {a:?}"),
            )),
        }
    }
}

pub use crate::aggregate::{aggregation_weights, balanced_aggregation_weights};

/// One micro-batch of rows (`[rows, T]` tensors; a sequence may span several rows).
#[derive(Debug, Clone)]
pub struct LossInputs<B: Backend> {
    /// Current log-probs (carrying gradients).
    pub logp: Tensor<B, 2>,
    /// Log-probs of the policy that sampled (or of the parameters before this batch's first
    /// update); no gradient.
    pub old_logp: Tensor<B, 2>,
    /// Reference log-probs when β > 0; no gradient.
    pub ref_logp: Option<Tensor<B, 2>>,
    /// 1 on the model's own tokens, 0 elsewhere.
    pub mask: Tensor<B, 2>,
    /// Aggregation weight of each token (already 0 off the mask).
    pub weights: Tensor<B, 2>,
    /// Advantage of each row's sequence, `[rows]`.
    pub advantages: Tensor<B, 1>,
    /// `[rows, rows]`: `seq_mean[r][r'] = 1/n_seq` when rows `r` and `r'` belong to the same
    /// sequence of `n_seq` valid tokens (only read for sequence-level ratios).
    pub seq_mean: Option<Tensor<B, 2>>,
}

/// The loss and its diagnostics (token means over the mask).
#[derive(Debug, Clone)]
pub struct LossOutput<B: Backend> {
    /// Scalar to differentiate.
    pub loss: Tensor<B, 1>,
    /// Sum over valid tokens of the per-token KL estimate (detached).
    pub kl_sum: f64,
    /// Valid tokens whose ratio was clipped in the direction that zeroes the gradient.
    pub clipped: f64,
    /// Of those, the ones below `1 − clip_low` with a negative advantage (TRL's low clip).
    pub clipped_low: f64,
    /// Sum over valid tokens of the ratio.
    pub ratio_sum: f64,
    /// Valid tokens.
    pub tokens: f64,
}

/// Per-token KL estimate `[rows, T]` (see [`KlEstimator`]).
pub fn kl_per_token<B: Backend>(
    est: KlEstimator,
    logp: Tensor<B, 2>,
    ref_logp: Tensor<B, 2>,
) -> Tensor<B, 2> {
    let d = ref_logp - logp;
    match est {
        KlEstimator::K1 => d.neg(),
        KlEstimator::K2 => d.square().mul_scalar(0.5),
        KlEstimator::K3 => d.clone().exp() - d - 1.0,
    }
}

fn host_sum<B: Backend>(t: Tensor<B, 2>) -> f64 {
    f64::from(t.sum().detach().into_scalar().elem::<f32>())
}

/// `Σ w·(−min(ρA, clip(ρ)A) + β·KL)` over a micro-batch.
pub fn policy_loss<B: Backend>(cfg: &LossConfig, x: LossInputs<B>) -> LossOutput<B> {
    let [rows, t] = x.logp.dims();
    let log_ratio = (x.logp.clone() - x.old_logp) * x.mask.clone();
    let ratio = match (cfg.ratio, x.seq_mean) {
        (RatioLevel::Sequence, Some(m)) => {
            let per_row = log_ratio.sum_dim(1); // [rows, 1]
            m.matmul(per_row).exp().expand([rows, t])
        }
        // Without a row→sequence map every row is its own sequence.
        (RatioLevel::Sequence, None) => {
            let n = x.mask.clone().sum_dim(1).clamp_min(1.0);
            (log_ratio.sum_dim(1) / n).exp().expand([rows, t])
        }
        (RatioLevel::Token, _) => log_ratio.exp(),
    };
    let adv = x.advantages.reshape([rows, 1]).expand([rows, t]);
    let lo = 1.0 - cfg.clip_low;
    let hi = 1.0 + cfg.clip_high;
    let unclipped = ratio.clone() * adv.clone();
    let clipped = ratio.clone().clamp(lo, hi) * adv.clone();
    let surrogate = unclipped.min_pair(clipped);
    let mut per_token = surrogate.neg();
    let mut kl_sum = 0.0;
    if let (Some(r), true) = (x.ref_logp, cfg.beta > 0.0) {
        let kl = kl_per_token(cfg.kl_estimator, x.logp, r);
        kl_sum = host_sum(kl.clone().detach() * x.mask.clone());
        per_token = per_token + kl.mul_scalar(cfg.beta);
    }
    let loss = (per_token * x.weights).sum();
    // Clip fraction: tokens where the clipped branch is active (ratio out of range on the
    // side the advantage pushes towards).
    let r = ratio.detach();
    let a = adv.detach();
    let above = r
        .clone()
        .greater_elem(hi)
        .bool_and(a.clone().greater_elem(0.0));
    let below = r.clone().lower_elem(lo).bool_and(a.lower_elem(0.0));
    let clipped_low = host_sum(below.float() * x.mask.clone());
    let clipped_n = host_sum(above.float() * x.mask.clone()) + clipped_low;
    LossOutput {
        loss,
        kl_sum,
        clipped: clipped_n,
        clipped_low,
        ratio_sum: host_sum(r * x.mask.clone()),
        tokens: host_sum(x.mask),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};

    type B = Flex;
    const LN2: f64 = std::f64::consts::LN_2;

    fn t2(v: [[f64; 2]; 2]) -> Tensor<B, 2> {
        let f: Vec<f32> = v.iter().flatten().map(|&x| x as f32).collect();
        Tensor::from_data(TensorData::new(f, [2, 2]), &Default::default())
    }

    /// Row 0: ratios (1.25, 1.0), A = +1. Row 1: ratio 0.5 then padding, A = −1.
    /// Hand values (ε = 0.2): per-token losses −1.2 (clipped at 1.2), −1.0, +0.8 (clipped at 0.8).
    fn inputs(
        agg: Aggregation,
        beta: f64,
        est: KlEstimator,
        ratio: RatioLevel,
    ) -> (LossConfig, LossInputs<B>) {
        let ln = f64::ln;
        let cfg = LossConfig {
            aggregation: agg,
            beta,
            kl_estimator: est,
            ratio,
            norm_len: Some(4),
            ..LossConfig::default()
        };
        let logp = t2([[ln(0.5), ln(0.25)], [ln(0.1), 0.0]]);
        let old = t2([[ln(0.4), ln(0.25)], [ln(0.2), 0.0]]);
        let reference = t2([[ln(0.5), ln(0.5)], [ln(0.2), 0.0]]);
        let mask = t2([[1.0, 1.0], [1.0, 0.0]]);
        let w = aggregation_weights(agg, &[2, 1], 4);
        let weights = t2([[w[0], w[0]], [w[1], 0.0]]);
        let seq_mean = t2([[0.5, 0.0], [0.0, 1.0]]);
        let x = LossInputs {
            logp,
            old_logp: old,
            ref_logp: Some(reference),
            mask,
            weights,
            advantages: Tensor::from_data(
                TensorData::new(vec![1.0f32, -1.0], [2]),
                &Default::default(),
            ),
            seq_mean: Some(seq_mean),
        };
        (cfg, x)
    }

    fn loss(
        agg: Aggregation,
        beta: f64,
        est: KlEstimator,
        ratio: RatioLevel,
    ) -> (f64, LossOutput<B>) {
        let (cfg, x) = inputs(agg, beta, est, ratio);
        let out = policy_loss(&cfg, x);
        (f64::from(out.loss.clone().into_scalar().elem::<f32>()), out)
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }

    #[test]
    fn aggregation_modes_match_hand_values() {
        let k3 = KlEstimator::K3;
        let tok = RatioLevel::Token;
        close(
            loss(Aggregation::TokenMean, 0.0, k3, tok).0,
            (-1.2 - 1.0 + 0.8) / 3.0,
        );
        close(
            loss(Aggregation::SeqMeanTokenMean, 0.0, k3, tok).0,
            ((-1.2 - 1.0) / 2.0 + 0.8) / 2.0,
        );
        close(
            loss(Aggregation::SeqMeanTokenSumNorm, 0.0, k3, tok).0,
            ((-2.2) / 4.0 + 0.8 / 4.0) / 2.0,
        );
        let (_, out) = loss(Aggregation::TokenMean, 0.0, k3, tok);
        close(out.clipped, 2.0);
        close(out.clipped_low, 1.0); // row 1's 0.5 < 0.8 with A = −1; row 0's 1.25 is the high one
        close(out.tokens, 3.0);
        close(out.ratio_sum, 1.25 + 1.0 + 0.5);
    }

    #[test]
    fn kl_estimators_match_hand_values() {
        // d = log π_ref − log π_θ = (0, ln 2, ln 2) on the three valid tokens.
        let base = (-1.2 - 1.0 + 0.8) / 3.0;
        let tok = RatioLevel::Token;
        let agg = Aggregation::TokenMean;
        let k1 = (0.0 - LN2 - LN2) / 3.0;
        let k2 = (0.0 + 0.5 * LN2 * LN2 * 2.0) / 3.0;
        let k3 = (0.0 + 2.0 * (2.0 - LN2 - 1.0)) / 3.0;
        for (est, kl) in [
            (KlEstimator::K1, k1),
            (KlEstimator::K2, k2),
            (KlEstimator::K3, k3),
        ] {
            let (l, out) = loss(agg, 0.1, est, tok);
            close(l, base + 0.1 * kl);
            close(out.kl_sum / out.tokens, kl);
        }
        // β = 0 ignores the reference entirely.
        close(loss(agg, 0.0, KlEstimator::K1, tok).0, base);
    }

    #[test]
    fn sequence_level_ratio_uses_the_geometric_mean() {
        // Row 0: exp((ln 1.25 + 0)/2) = √1.25 ≈ 1.1180 < 1.2, unclipped on both tokens.
        let (l, _) = loss(
            Aggregation::TokenMean,
            0.0,
            KlEstimator::K3,
            RatioLevel::Sequence,
        );
        close(l, (-2.0 * 1.25f64.sqrt() + 0.8) / 3.0);
    }

    #[test]
    fn gradient_is_zero_where_clipped_and_reinforce_on_policy() {
        type A = Autodiff<Flex>;
        let dev = Default::default();
        // On-policy (old = current): ratio 1, d loss / d logp_t = −A·w_t (REINFORCE).
        let logp = Tensor::<A, 2>::from_data(
            TensorData::new(vec![-0.5f32, -1.0, -2.0, -0.3], [2, 2]),
            &dev,
        )
        .require_grad();
        let old = logp.clone().detach();
        let mask =
            Tensor::<A, 2>::from_data(TensorData::new(vec![1.0f32, 1.0, 1.0, 0.0], [2, 2]), &dev);
        let w = aggregation_weights(Aggregation::TokenMean, &[2, 1], 1);
        let weights = Tensor::<A, 2>::from_data(
            TensorData::new(vec![w[0] as f32, w[0] as f32, w[1] as f32, 0.0], [2, 2]),
            &dev,
        );
        let advantages = Tensor::<A, 1>::from_data(TensorData::new(vec![2.0f32, -1.0], [2]), &dev);
        let cfg = LossConfig {
            aggregation: Aggregation::TokenMean,
            ..LossConfig::default()
        };
        let out = policy_loss(
            &cfg,
            LossInputs {
                logp: logp.clone(),
                old_logp: old,
                ref_logp: None,
                mask,
                weights,
                advantages,
                seq_mean: None,
            },
        );
        let grads = out.loss.backward();
        let g: Vec<f32> = logp.grad(&grads).unwrap().into_data().to_vec().unwrap();
        let third = 1.0 / 3.0;
        for (got, want) in g.iter().zip([-2.0 * third, -2.0 * third, third, 0.0]) {
            assert!((f64::from(*got) - want).abs() < 1e-6, "{g:?}");
        }
        // Far above the clip range with A > 0: no gradient.
        let (cfg, mut x) = inputs(
            Aggregation::TokenMean,
            0.0,
            KlEstimator::K3,
            RatioLevel::Token,
        );
        let lp = Tensor::<A, 2>::from_data(x.logp.clone().into_data(), &dev).require_grad();
        let conv = |t: Tensor<B, 2>| Tensor::<A, 2>::from_data(t.into_data(), &dev);
        x.ref_logp = None;
        let out = policy_loss(
            &cfg,
            LossInputs {
                logp: lp.clone(),
                old_logp: conv(x.old_logp),
                ref_logp: None,
                mask: conv(x.mask),
                weights: conv(x.weights),
                advantages: Tensor::from_data(x.advantages.into_data(), &dev),
                seq_mean: None,
            },
        );
        let g: Vec<f32> = lp
            .grad(&out.loss.backward())
            .unwrap()
            .into_data()
            .to_vec()
            .unwrap();
        assert_eq!(g[0], 0.0, "clipped token has no gradient: {g:?}");
        assert_eq!(g[2], 0.0, "clipped token has no gradient: {g:?}");
        assert!((f64::from(g[1]) + 1.0 / 3.0).abs() < 1e-6, "{g:?}");
    }

    #[test]
    fn config_validation() {
        LossConfig::default().validate().unwrap();
        let c = LossConfig {
            norm_len: Some(8),
            ..LossConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("norm_len"));
        let c = LossConfig {
            clip_low: 1.5,
            ..LossConfig::default()
        };
        assert!(c.validate().is_err());
        let c: LossConfig =
            toml::from_str("aggregation = \"token_mean\"\nkl_estimator = \"k2\"\nbeta = 0.04")
                .unwrap();
        assert_eq!(
            (c.aggregation, c.kl_estimator),
            (Aggregation::TokenMean, KlEstimator::K2)
        );
        assert!(toml::from_str::<LossConfig>("aggregation = \"mean\"").is_err());
    }
}
