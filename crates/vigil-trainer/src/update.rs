//! The policy update of one RL step: `epochs` optimizer updates over the rollout batch, each
//! accumulating gradients over `grad_accum` micro-batches.
//!
//! With one epoch the "old" log-probs are the current ones detached (exactly on-policy, ratio 1,
//! no extra forward). With several, they are computed once, before the first update, with the
//! same weights. Reference log-probs (β > 0) come from the frozen snapshot, or from the base
//! with adapters switched off.

use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use crate::batch::{Packed, Row, micro_batches, pack};
use crate::config::TrainerConfig;
use crate::error::TrainerError;
use crate::learner::Learner;
use crate::logprobs::{host, matrix, packed_logprobs, vector};
use crate::loss::{LossInputs, RatioLevel, balanced_aggregation_weights, policy_loss};

/// What one update reports.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UpdateStats {
    /// Aggregated loss of the last epoch.
    pub loss: f64,
    /// Token-mean KL estimate (first epoch).
    pub kl: f64,
    /// Clipped-token fraction over all epochs.
    pub clip_frac: f64,
    /// Share of tokens clipped below (ratio < 1 − ε_low, negative advantage), all epochs.
    pub clip_low_frac: f64,
    /// Token-mean ratio over all epochs.
    pub ratio_mean: f64,
    /// Token-mean entropy (first epoch).
    pub entropy: f64,
    /// Pre-clip gradient norm of the last update.
    pub grad_norm: f64,
    /// Mean |sampler − recomputed| log-prob (first epoch, where the sampler reported them).
    pub logprob_gap: f64,
    /// Tokens through forward+backward.
    pub train_tokens: u64,
}

fn to_autodiff<B: AutodiffBackend>(t: Tensor<B::InnerBackend, 2>) -> Tensor<B, 2> {
    Tensor::from_inner(t)
}

/// Runs the update; `advantages[s]` is episode `s`'s advantage (rows carry `seq = s`), and
/// `parts[s]` the part of the batch whose loss it is averaged within (all 0: one pooled mean),
/// each part's loss weighing `part_weights[part]` (relative).
#[allow(clippy::too_many_arguments)]
pub fn rl_update<B: AutodiffBackend>(
    learner: &mut Learner<B>,
    rows: &[Row],
    advantages: &[f64],
    parts: &[usize],
    part_weights: &[f64],
    cfg: &TrainerConfig,
    norm_len: usize,
    lr: f64,
    step: u64,
) -> Result<UpdateStats, TrainerError> {
    let mut lengths = vec![0usize; advantages.len()];
    for r in rows {
        lengths[r.seq] += r.trained();
    }
    let w_seq =
        balanced_aggregation_weights(cfg.loss.aggregation, &lengths, norm_len, parts, |p| {
            part_weights.get(p).copied().unwrap_or(1.0)
        });
    let mbs = micro_batches(rows, cfg.grad_accum);
    let packs: Vec<Packed> = mbs.iter().map(|m| pack(m)).collect::<Result<_, _>>()?;
    let beta = cfg.loss.beta;
    let need_old = cfg.epochs > 1;
    let snapshot =
        (need_old || (beta > 0.0 && learner.reference.is_none())).then(|| learner.snapshot());
    let mut olds = Vec::new();
    let mut refs = Vec::new();
    for p in &packs {
        if let (true, Some(s)) = (need_old, &snapshot) {
            olds.push(packed_logprobs(s, true, p, false)?.0);
        }
        if beta > 0.0 {
            let r = match (&learner.reference, &snapshot) {
                (Some(r), _) => packed_logprobs(r, true, p, false)?.0,
                (None, Some(s)) => packed_logprobs(s, false, p, false)?.0,
                (None, None) => unreachable!("a snapshot is taken when there is no reference"),
            };
            refs.push(r);
        }
    }
    let device = learner.model.model.embed_tokens.val().device();
    let mut st = UpdateStats::default();
    let (mut tokens_all, mut clipped, mut ratio_sum, mut kl_sum, mut ent_sum, mut tok0) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let mut clipped_low = 0.0;
    let (mut gap_sum, mut gap_n) = (0.0, 0usize);
    for epoch in 0..cfg.epochs {
        let mut loss_epoch = 0.0;
        for (i, (mb, p)) in mbs.iter().zip(&packs).enumerate() {
            let (w_seq, lengths) = (&w_seq, &lengths);
            let r = mb.len();
            st.train_tokens += (r * p.len) as u64;
            let (logp, ent) = packed_logprobs(&learner.model, true, p, epoch == 0)?;
            let mask = matrix::<B>(p.mask.clone(), r, p.cols, &device);
            let weights: Vec<f32> = mb
                .iter()
                .enumerate()
                .flat_map(|(k, row)| {
                    p.mask[k * p.cols..(k + 1) * p.cols]
                        .iter()
                        .map(move |m| m * w_seq[row.seq] as f32)
                })
                .collect();
            let adv: Vec<f32> = mb.iter().map(|row| advantages[row.seq] as f32).collect();
            let seq_mean = (cfg.loss.ratio == RatioLevel::Sequence).then(|| {
                let m: Vec<f32> = mb
                    .iter()
                    .flat_map(|a| {
                        mb.iter().map(move |b| {
                            if a.seq == b.seq {
                                1.0 / lengths[a.seq].max(1) as f32
                            } else {
                                0.0
                            }
                        })
                    })
                    .collect();
                matrix::<B>(m, r, r, &device)
            });
            if epoch == 0 {
                if let Some(e) = ent {
                    ent_sum += f64::from(host((e * mask.clone()).sum())[0]);
                }
                let lp = host(logp.clone().detach());
                for (k, row) in mb.iter().enumerate() {
                    let trained = (0..p.cols)
                        .filter(|c| p.mask[k * p.cols + c] > 0.0)
                        .map(|c| lp[k * p.cols + c]);
                    for (a, b) in trained.zip(&row.sampled) {
                        if b.is_finite() {
                            gap_sum += f64::from((a - b).abs());
                            gap_n += 1;
                        }
                    }
                }
            }
            let old = if need_old {
                to_autodiff::<B>(olds[i].clone())
            } else {
                logp.clone().detach()
            };
            let out = policy_loss(
                &cfg.loss,
                LossInputs {
                    logp,
                    old_logp: old,
                    ref_logp: refs.get(i).map(|t| to_autodiff::<B>(t.clone())),
                    mask,
                    weights: matrix::<B>(weights, r, p.cols, &device),
                    advantages: vector::<B>(adv, &device),
                    seq_mean,
                },
            );
            let l = f64::from(host(out.loss.clone().detach())[0]);
            if !l.is_finite() {
                return Err(TrainerError::NonFinite { what: "loss", step });
            }
            loss_epoch += l;
            tokens_all += out.tokens;
            clipped += out.clipped;
            clipped_low += out.clipped_low;
            ratio_sum += out.ratio_sum;
            if epoch == 0 {
                kl_sum += out.kl_sum;
                tok0 += out.tokens;
            }
            let grads = out.loss.backward();
            learner.acc.add(&learner.model, grads);
        }
        st.loss = loss_epoch;
        st.grad_norm = learner.update(lr, cfg.clip());
        if !st.grad_norm.is_finite() {
            return Err(TrainerError::NonFinite {
                what: "gradient norm",
                step,
            });
        }
    }
    let per = |x: f64, n: f64| if n > 0.0 { x / n } else { 0.0 };
    st.kl = per(kl_sum, tok0);
    st.entropy = per(ent_sum, tok0);
    st.clip_frac = per(clipped, tokens_all);
    st.clip_low_frac = per(clipped_low, tokens_all);
    st.ratio_mean = per(ratio_sum, tokens_all);
    st.logprob_gap = per(gap_sum, gap_n as f64);
    Ok(st)
}
