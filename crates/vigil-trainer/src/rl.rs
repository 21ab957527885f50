//! One RL step: rollout → score → advantage → update, returning its metrics line.

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use vigil_core::{
    AdvantageEstimator, DriverLimits, Environment, EpisodeRecord, FinishReason, Policy,
    RewardBatch, SeedStream, TaskId, run_episodes,
};
use vigil_rewards::RewardSet;

use crate::batch::{Row, episode_rows};
use crate::config::TrainerConfig;
use crate::curriculum::{Plan, TaskSampler, stage_label};
use crate::dynamic::informative;
use crate::error::TrainerError;
use crate::learner::Learner;
use crate::metrics::{
    ComponentCorr, ComponentStat, HackingRate, RlLine, Stat, Timing, component_corr,
};
use crate::update::rl_update;

/// What an RL step reads but does not change.
pub struct RlContext<'a> {
    /// The environment.
    pub env: &'a dyn Environment,
    /// Weights and gates of the reward components.
    pub rewards: &'a RewardSet,
    /// Reward vectors → advantages.
    pub estimator: &'a dyn AdvantageEstimator,
    /// `[trainer]`.
    pub cfg: &'a TrainerConfig,
    /// Curriculum.
    pub plan: &'a Plan,
    /// Run seed.
    pub seed: u64,
    /// Constant length of `seq_mean_token_sum_norm`.
    pub norm_len: usize,
}

impl std::fmt::Debug for RlContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RlContext")
            .field("env", &self.env.name())
            .field("seed", &self.seed)
            .finish()
    }
}

/// One scored rollout.
struct Scored {
    record: EpisodeRecord,
    /// Gated component values (what the estimator sees).
    values: Vec<f64>,
}

/// Samples groups until `batch_prompts` informative ones are kept (or the rounds run out).
fn rollout(
    ctx: &RlContext<'_>,
    tasks: &mut TaskSampler,
    policy: &mut dyn Policy,
    step: u64,
    on_episode: &mut dyn FnMut(&EpisodeRecord),
) -> Result<(Vec<Vec<Scored>>, Vec<Scored>, usize), TrainerError> {
    let (b, g) = (ctx.cfg.batch_prompts, ctx.cfg.group_size);
    let rounds = ctx
        .cfg
        .dynamic_sampling
        .as_ref()
        .map_or(1, |d| d.max_rounds);
    let stage = ctx.plan.stage_at(step);
    let seeds = SeedStream::new(ctx.seed);
    let mut kept: Vec<Vec<Scored>> = Vec::new();
    let mut dropped: Vec<Scored> = Vec::new();
    let mut sampled = 0;
    for round in 0..rounds {
        let need = b - kept.len();
        if need == 0 {
            break;
        }
        let prompts: Vec<TaskId> = tasks.draw(stage, need);
        sampled += prompts.len();
        let purpose = format!("rollout/{step}/{round}");
        let jobs: Vec<(TaskId, u64)> = prompts
            .iter()
            .enumerate()
            .flat_map(|(i, t)| (0..g).map(move |j| (i * g + j, t)))
            .map(|(k, t)| (t.clone(), seeds.seed_at(&purpose, k as u64)))
            .collect();
        let limits = DriverLimits {
            max_turns: ctx.cfg.max_turns,
            batch_size: jobs.len(),
        };
        let records = run_episodes(ctx.env, policy, &jobs, limits, |r| on_episode(r))?;
        let mut it = records.into_iter();
        for _ in 0..prompts.len() {
            let group: Vec<Scored> = it
                .by_ref()
                .take(g)
                .map(|record| {
                    let values = ctx
                        .rewards
                        .values(&record.outcome.rewards)
                        .map_err(|e| TrainerError::Reward(e.to_string()))?;
                    Ok(Scored { record, values })
                })
                .collect::<Result<_, TrainerError>>()?;
            let vals: Vec<Vec<f64>> = group.iter().map(|s| s.values.clone()).collect();
            if ctx.cfg.dynamic_sampling.is_none() || informative(&vals, ctx.rewards.weights()) {
                kept.push(group);
            } else {
                dropped.extend(group);
            }
        }
    }
    Ok((kept, dropped, sampled))
}

/// Runs RL step `step` (0-based) with learning rate `lr`.
pub fn rl_step<B: AutodiffBackend>(
    ctx: &RlContext<'_>,
    learner: &mut Learner<B>,
    tasks: &mut TaskSampler,
    policy: &mut dyn Policy,
    step: u64,
    lr: f64,
    on_episode: &mut dyn FnMut(&EpisodeRecord),
) -> Result<RlLine, TrainerError> {
    let t0 = Instant::now();
    let (kept, dropped, sampled) = rollout(ctx, tasks, policy, step, on_episode)?;
    let rollout_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    // Advantages over the kept groups.
    let (advantages, per_component, stats) = if kept.is_empty() {
        tracing::warn!(
            step,
            "no informative group after dynamic sampling; skipping the update"
        );
        (Vec::new(), Vec::new(), None)
    } else {
        let batch = reward_batch(&kept)?;
        let adv = ctx.estimator.estimate(&batch, ctx.rewards.weights())?;
        let per_component = component_advantages(ctx, &batch)?;
        let mut rows: Vec<Row> = Vec::new();
        for (s, scored) in kept.iter().flatten().enumerate() {
            rows.extend(episode_rows(&scored.record, s)?);
        }
        let st = rl_update(
            learner,
            &rows,
            &adv,
            &vec![0; adv.len()],
            &[1.0],
            ctx.cfg,
            ctx.norm_len,
            lr,
            step,
        )?;
        (adv, per_component, Some(st))
    };
    let update_s = t1.elapsed().as_secs_f64();
    let all: Vec<&Scored> = kept.iter().flatten().chain(dropped.iter()).collect();
    let st = stats.unwrap_or_default();
    let rollout_tokens: u64 = all.iter().map(|s| response_tokens(&s.record)).sum();
    let frac = |f: &dyn Fn(&Scored) -> bool| {
        all.iter().filter(|s| f(s)).count() as f64 / all.len().max(1) as f64
    };
    let groups: Vec<&[Scored]> = kept
        .iter()
        .map(Vec::as_slice)
        .chain(dropped.chunks(ctx.cfg.group_size.max(1)))
        .collect();
    let group_std = |f: &dyn Fn(&Scored) -> f64| -> Vec<f64> {
        groups
            .iter()
            .map(|g| Stat::of(&g.iter().map(f).collect::<Vec<_>>()).std)
            .collect()
    };
    let share_zero = |stds: &[f64]| {
        stds.iter().filter(|s| **s <= ZERO_STD).count() as f64 / stds.len().max(1) as f64
    };
    let total_stds = group_std(&|s| ctx.rewards.total(&s.values));
    // `advantages` follows the kept groups' rollouts in order; dropped groups teach nothing.
    let mut at = 0;
    let zero_adv = kept
        .iter()
        .map(|g| {
            let a = advantages.get(at..at + g.len()).unwrap_or(&[]);
            at += g.len();
            a.iter().all(|x| x.abs() <= ZERO_STD)
        })
        .filter(|z| *z)
        .count()
        + groups.len().saturating_sub(kept.len());
    Ok(RlLine {
        step: step + 1,
        stage: stage_label(ctx.plan.stage_at(step)),
        lr,
        reward: Stat::of(
            &all.iter()
                .map(|s| ctx.rewards.total(&s.values))
                .collect::<Vec<_>>(),
        ),
        reward_group_std: total_stds.iter().sum::<f64>() / total_stds.len().max(1) as f64,
        frac_reward_zero_std: share_zero(&total_stds),
        frac_zero_advantage: zero_adv as f64 / groups.len().max(1) as f64,
        components: ctx
            .rewards
            .names()
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let raw = |s: &Scored| s.record.outcome.rewards.get(n).unwrap_or(0.0);
                ComponentStat {
                    name: n.clone(),
                    stat: Stat::of(&all.iter().map(|s| raw(s)).collect::<Vec<_>>()),
                    frac_zero_std: share_zero(&group_std(&raw)),
                    advantage: per_component.get(i).copied().flatten(),
                }
            })
            .collect(),
        component_corr: raw_corr(
            ctx.rewards.names(),
            &all.iter().map(|s| &s.record).collect::<Vec<_>>(),
        ),
        hacking: hacking(ctx.env, all.iter().map(|s| &s.record)),
        advantage: Stat::of(&advantages),
        loss: st.loss,
        kl: st.kl,
        clip_frac: st.clip_frac,
        clip_low_frac: st.clip_low_frac,
        ratio_mean: st.ratio_mean,
        entropy: st.entropy,
        grad_norm: st.grad_norm,
        completion_tokens: Stat::of(
            &all.iter()
                .map(|s| response_tokens(&s.record) as f64)
                .collect::<Vec<_>>(),
        ),
        turns: Stat::of(
            &all.iter()
                .map(|s| s.record.generations.len() as f64)
                .collect::<Vec<_>>(),
        ),
        truncated_frac: frac(&|s| {
            s.record
                .generations
                .last()
                .is_some_and(|g| g.finish == FinishReason::Length)
        }),
        format_valid_rate: frac(&|s| s.record.outcome.format_valid),
        groups_sampled: sampled,
        groups_kept: kept.len(),
        logprob_gap: st.logprob_gap,
        rollout_tokens,
        train_tokens: st.train_tokens,
        timing: Timing::of_step(rollout_s, update_s, rollout_tokens, st.train_tokens),
        roles: Vec::new(),
    })
}

/// Pearson correlation of every pair of `names` over the records' raw component values (a
/// component a record lacks reads 0).
pub(crate) fn raw_corr(names: &[String], records: &[&EpisodeRecord]) -> Vec<ComponentCorr> {
    let columns: Vec<Vec<f64>> = names
        .iter()
        .map(|n| {
            records
                .iter()
                .map(|r| r.outcome.rewards.get(n).unwrap_or(0.0))
                .collect()
        })
        .collect();
    component_corr(names, &columns)
}

/// Each declared reward-hacking detector's share of the rollouts it flags.
pub(crate) fn hacking<'a>(
    env: &dyn Environment,
    records: impl Iterator<Item = &'a EpisodeRecord>,
) -> Vec<HackingRate> {
    let detectors = env.hacking_detectors();
    if detectors.is_empty() {
        return Vec::new();
    }
    let flags: Vec<_> = records
        .map(|r| env.detect_hacking(&r.transcript, &r.outcome))
        .collect();
    let rates = vigil_core::hacking_rates(detectors.len(), &flags);
    detectors
        .into_iter()
        .zip(rates)
        .map(|(d, rate)| HackingRate { name: d.name, rate })
        .collect()
}

/// A group std at or below this counts as zero (every rollout scored the same).
const ZERO_STD: f64 = 1e-9;

/// Per component, the advantages the estimator gives when only that component is weighted
/// (`None` for weight-0 components): which objectives carry the step's signal.
fn component_advantages(
    ctx: &RlContext<'_>,
    batch: &RewardBatch,
) -> Result<Vec<Option<Stat>>, TrainerError> {
    let weights = ctx.rewards.weights();
    (0..weights.len())
        .map(|i| {
            if weights[i] == 0.0 {
                return Ok(None);
            }
            let mut only = vec![0.0; weights.len()];
            only[i] = weights[i];
            Ok(Some(Stat::of(&ctx.estimator.estimate(batch, &only)?)))
        })
        .collect()
}

/// Tokens the policy generated in an episode: the tokens the loss is computed on.
fn response_tokens(record: &EpisodeRecord) -> u64 {
    record
        .generations
        .iter()
        .map(|g| g.tokens.len() as u64)
        .sum()
}

/// The estimator's input for the kept groups: gated component values, and each rollout's
/// response length in generated tokens (read by token-weighted whitening, e.g. verl's GDPO).
fn reward_batch(kept: &[Vec<Scored>]) -> Result<RewardBatch, TrainerError> {
    let groups: Vec<Vec<Vec<f64>>> = kept
        .iter()
        .map(|g| g.iter().map(|s| s.values.clone()).collect())
        .collect();
    let lengths: Vec<Vec<u64>> = kept
        .iter()
        .map(|g| g.iter().map(|s| response_tokens(&s.record)).collect())
        .collect();
    Ok(RewardBatch::from_nested(&groups)?.with_lengths(&lengths)?)
}

#[cfg(test)]
mod tests {
    use vigil_core::{Generation, Outcome, RewardVector};

    use super::*;

    fn scored(turn_tokens: &[usize], value: f64) -> Scored {
        let generations = turn_tokens
            .iter()
            .map(|&n| Generation {
                tokens: vec![7; n],
                ..Generation::text("x")
            })
            .collect();
        let outcome = Outcome {
            rewards: RewardVector::default(),
            format_valid: true,
            metrics: Default::default(),
            prediction: None,
            steps: 1,
        };
        Scored {
            record: EpisodeRecord {
                task: TaskId("t".into()),
                seed: 0,
                transcript: Vec::new(),
                generations,
                outcome,
            },
            values: vec![value],
        }
    }

    #[test]
    fn the_estimator_sees_generated_tokens_per_rollout() {
        let kept = vec![
            vec![scored(&[3, 4], 1.0), scored(&[1], 0.0)],
            vec![scored(&[10], 1.0), scored(&[2, 2, 2], 1.0)],
        ];
        let batch = reward_batch(&kept).unwrap();
        assert_eq!(batch.lengths(), Some(&[7, 1, 10, 6][..]));
        // verl's GDPO whitens over those tokens: the signal-free second group moves off 0.
        let verl: vigil_advantage::AdvantageConfig =
            toml::from_str("kind = \"gdpo\"\ncompat = \"verl\"").unwrap();
        let a = verl.estimate(&batch, &[1.0]).unwrap();
        assert!(a[2] != 0.0 && a[2] == a[3], "{a:?}");
    }
}
