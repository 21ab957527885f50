//! One self-play RL step: the rollout tree → each role's values → per-role advantages → one
//! update over every learning role's generations → a metrics line with a section per role.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use vigil_core::{Environment, EpisodeRecord, FinishReason, Policy, SeedStream};

use super::config::{LossBalance, SelfPlayConfig, SoloTasks};
use super::credit::{RoleCredit, Unit, role_advantages, trained_rows};
use super::rollout::{Root, Tree, TreeLimits, rollout};
use super::{RoleSpec, SelfPlaySpec};
use crate::config::TrainerConfig;
use crate::curriculum::{Plan, TaskSampler, stage_label};
use crate::error::TrainerError;
use crate::learner::Learner;
use crate::metrics::{ComponentStat, RlLine, RoleLine, Stat, Timing};
use crate::update::rl_update;

/// What a self-play step reads but does not change.
pub(crate) struct SelfPlayContext<'a> {
    pub env: &'a dyn Environment,
    pub spec: &'a SelfPlaySpec,
    pub config: &'a SelfPlayConfig,
    pub cfg: &'a TrainerConfig,
    pub plan: &'a Plan,
    pub seed: u64,
    pub norm_len: usize,
}

/// The roots of step `step`: `batch_prompts` briefs × `group_size` crafts, then the solo groups.
fn roots(
    ctx: &SelfPlayContext<'_>,
    tasks: &mut TaskSampler,
    step: u64,
) -> Result<Vec<Root>, TrainerError> {
    let (b, g) = (ctx.cfg.batch_prompts, ctx.cfg.group_size);
    let stage = ctx.plan.stage_at(step);
    let seeds = SeedStream::new(ctx.seed);
    let mut out = Vec::new();
    for (i, task) in tasks.draw(stage, b).into_iter().enumerate() {
        for j in 0..g {
            out.push(Root {
                task: task.clone(),
                group: i,
                seed: seeds.seed_at(&format!("self-play/{step}"), (i * g + j) as u64),
                solo: None,
            });
        }
    }
    if ctx.config.solo_groups > 0 {
        let name = ctx.config.solo_role.as_deref().unwrap_or_default();
        let role = ctx
            .spec
            .roles
            .iter()
            .position(|r| r.name == name)
            .ok_or_else(|| TrainerError::SelfPlay(format!("no role `{name}`")))?;
        let solo_stage = match ctx.config.solo_tasks {
            SoloTasks::Curriculum => stage,
            SoloTasks::AllStages => None,
        };
        for (i, task) in tasks
            .draw(solo_stage, ctx.config.solo_groups)
            .into_iter()
            .enumerate()
        {
            for j in 0..g {
                let seed = seeds.seed_at(&format!("self-play-solo/{step}"), (i * g + j) as u64);
                out.push(Root {
                    task: task.clone(),
                    group: b + i,
                    seed,
                    solo: Some(role),
                });
            }
        }
    }
    Ok(out)
}

/// Each branch as a unit of its role, valued by the mean of the role's gated values over the
/// episodes that descend from it (an attacker's craft: over every answer to it).
fn units(tree: &Tree, roles: &[RoleSpec]) -> Result<Vec<Unit>, TrainerError> {
    tree.branches
        .iter()
        .enumerate()
        .map(|(k, b)| {
            let set = &roles
                .get(b.role)
                .ok_or_else(|| {
                    TrainerError::SelfPlay(format!("an episode played unknown role {}", b.role))
                })?
                .rewards;
            let mut values = vec![0.0; set.names().len()];
            let outcomes: Vec<_> = tree.outcomes(k).collect();
            for o in &outcomes {
                let v = set
                    .values(&o.rewards)
                    .map_err(|e| TrainerError::Reward(e.to_string()))?;
                values
                    .iter_mut()
                    .zip(v)
                    .for_each(|(a, x)| *a += x / outcomes.len() as f64);
            }
            Ok(Unit {
                role: b.role,
                group: b.group,
                values,
                generations: b.generations.clone(),
                task: b.task.clone(),
            })
        })
        .collect()
}

/// Mean of each of `names` (every metric when empty) over the units that report it (a unit:
/// mean over its episodes).
fn role_metrics(tree: &Tree, branches: &[usize], names: &[String]) -> BTreeMap<String, f64> {
    let mut acc: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for &k in branches {
        let mut per: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for o in tree.outcomes(k) {
            for (name, v) in o
                .metrics
                .iter()
                .filter(|(n, _)| names.is_empty() || names.contains(n))
            {
                let e = per.entry(name).or_default();
                *e = (e.0 + v, e.1 + 1.0);
            }
        }
        for (name, (s, n)) in per {
            let e = acc.entry(name.to_string()).or_default();
            *e = (e.0 + s / n, e.1 + 1.0);
        }
    }
    acc.into_iter().map(|(k, (s, n))| (k, s / n)).collect()
}

/// Runs self-play RL step `step` with `players[role]` writing each role's turns.
#[allow(clippy::too_many_arguments)]
pub(crate) fn self_play_step<B: AutodiffBackend>(
    ctx: &SelfPlayContext<'_>,
    learner: &mut Learner<B>,
    tasks: &mut TaskSampler,
    players: &mut [Box<dyn Policy + '_>],
    step: u64,
    lr: f64,
    on_episode: &mut dyn FnMut(&EpisodeRecord),
) -> Result<RlLine, TrainerError> {
    let t0 = Instant::now();
    let roots = roots(ctx, tasks, step)?;
    let next_group = roots.iter().map(|r| r.group + 1).max().unwrap_or(0);
    let limits = TreeLimits {
        fork_group: ctx.config.fork_group,
        max_turns: ctx.cfg.max_turns,
        next_group,
    };
    let tree = rollout(ctx.env, players, &roots, limits, on_episode)?;
    let rollout_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let roles = &ctx.spec.roles;
    let units = units(&tree, roles)?;
    let credit: Vec<Option<RoleCredit<'_>>> = roles
        .iter()
        .map(|r| {
            r.player.learns().then(|| RoleCredit {
                estimator: &r.estimator,
                weights: r.rewards.weights(),
            })
        })
        .collect();
    let adv = role_advantages(&units, &credit)?;
    let trained = trained_rows(&units, &adv)?;
    let parts = match ctx.config.loss_balance {
        LossBalance::Pooled => vec![0; trained.roles.len()],
        LossBalance::PerRole => trained.roles.clone(),
    };
    let part_weights: Vec<f64> = roles
        .iter()
        .map(|r| {
            ctx.config
                .roles
                .get(&r.name)
                .and_then(|c| c.loss_weight)
                .unwrap_or(1.0)
        })
        .collect();
    let st = if trained.rows.is_empty() {
        tracing::warn!(
            step,
            "no generation of a learning role this step; skipping the update"
        );
        Default::default()
    } else {
        rl_update(
            learner,
            &trained.rows,
            &trained.advantages,
            &parts,
            &part_weights,
            ctx.cfg,
            ctx.norm_len,
            lr,
            step,
        )?
    };
    let update_s = t1.elapsed().as_secs_f64();
    if ctx.config.grow_archive {
        ctx.env.observe_training(&tree.leaves);
    }
    let leaves = &tree.leaves;
    let frac = |f: &dyn Fn(&EpisodeRecord) -> bool| {
        leaves.iter().filter(|r| f(r)).count() as f64 / leaves.len().max(1) as f64
    };
    let role_lines: Vec<RoleLine> = roles
        .iter()
        .enumerate()
        .map(|(r, spec)| {
            let mine: Vec<usize> = (0..units.len()).filter(|&k| units[k].role == r).collect();
            let groups = {
                let mut g: Vec<usize> = mine.iter().map(|&k| units[k].group).collect();
                g.sort_unstable();
                g.dedup();
                g.len()
            };
            let raw = |name: &str| -> Vec<f64> {
                mine.iter()
                    .map(|&k| {
                        let os: Vec<_> = tree.outcomes(k).collect();
                        os.iter()
                            .map(|o| o.rewards.get(name).unwrap_or(0.0))
                            .sum::<f64>()
                            / os.len().max(1) as f64
                    })
                    .collect()
            };
            RoleLine {
                role: spec.name.clone(),
                trained: spec.player.learns(),
                reward: Stat::of(
                    &mine
                        .iter()
                        .map(|&k| spec.rewards.total(&units[k].values))
                        .collect::<Vec<_>>(),
                ),
                components: spec
                    .rewards
                    .names()
                    .iter()
                    .map(|n| ComponentStat {
                        name: n.clone(),
                        stat: Stat::of(&raw(n)),
                        frac_zero_std: 0.0,
                        advantage: None,
                    })
                    .collect(),
                advantage: Stat::of(&mine.iter().filter_map(|&k| adv[k]).collect::<Vec<_>>()),
                units: mine.len(),
                groups,
                metrics: role_metrics(&tree, &mine, &spec.metrics),
            }
        })
        .collect();
    let rollout_tokens: u64 = units.iter().map(Unit::response_tokens).sum();
    let trained_groups: usize = role_lines
        .iter()
        .filter(|l| l.trained)
        .map(|l| l.groups)
        .sum();
    // Within-group std of each (role, group)'s unit totals, every role's groups included.
    let mut by_group: std::collections::BTreeMap<(usize, usize), Vec<f64>> =
        std::collections::BTreeMap::new();
    for u in &units {
        by_group
            .entry((u.role, u.group))
            .or_default()
            .push(roles[u.role].rewards.total(&u.values));
    }
    let group_stds: Vec<f64> = by_group.values().map(|g| Stat::of(g).std).collect();
    // A (role, group) teaches nothing when every unit's advantage is zero or absent (frozen).
    let mut taught: std::collections::BTreeMap<(usize, usize), bool> = std::collections::BTreeMap::new();
    for (u, a) in units.iter().zip(&adv) {
        *taught.entry((u.role, u.group)).or_default() |= a.is_some_and(|a| a.abs() > 1e-9);
    }
    Ok(RlLine {
        step: step + 1,
        stage: stage_label(ctx.plan.stage_at(step)),
        lr,
        reward: Stat::of(
            &units
                .iter()
                .map(|u| roles[u.role].rewards.total(&u.values))
                .collect::<Vec<_>>(),
        ),
        reward_group_std: group_stds.iter().sum::<f64>() / group_stds.len().max(1) as f64,
        frac_reward_zero_std: group_stds.iter().filter(|s| **s <= 1e-9).count() as f64
            / group_stds.len().max(1) as f64,
        frac_zero_advantage: taught.values().filter(|t| !**t).count() as f64 / taught.len().max(1) as f64,
        components: ctx
            .env
            .reward_components()
            .iter()
            .map(|c| ComponentStat {
                name: c.name.clone(),
                stat: Stat::of(
                    &leaves
                        .iter()
                        .map(|r| r.outcome.rewards.get(&c.name).unwrap_or(0.0))
                        .collect::<Vec<_>>(),
                ),
                // Per-component group statistics are per role in self-play (`roles`).
                frac_zero_std: 0.0,
                advantage: None,
            })
            .collect(),
        component_corr: crate::rl::raw_corr(
            &ctx.env
                .reward_components()
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>(),
            &leaves.iter().collect::<Vec<_>>(),
        ),
        hacking: crate::rl::hacking(ctx.env, leaves.iter()),
        advantage: Stat::of(&trained.advantages),
        loss: st.loss,
        kl: st.kl,
        clip_frac: st.clip_frac,
        clip_low_frac: st.clip_low_frac,
        ratio_mean: st.ratio_mean,
        entropy: st.entropy,
        grad_norm: st.grad_norm,
        completion_tokens: Stat::of(
            &units
                .iter()
                .map(|u| u.response_tokens() as f64)
                .collect::<Vec<_>>(),
        ),
        turns: Stat::of(
            &leaves
                .iter()
                .map(|r| r.generations.len() as f64)
                .collect::<Vec<_>>(),
        ),
        truncated_frac: frac(&|r| {
            r.generations
                .iter()
                .any(|g| g.finish == FinishReason::Length)
        }),
        format_valid_rate: frac(&|r| r.outcome.format_valid),
        groups_sampled: role_lines.iter().map(|l| l.groups).sum(),
        groups_kept: trained_groups,
        logprob_gap: st.logprob_gap,
        rollout_tokens,
        train_tokens: st.train_tokens,
        timing: Timing::of_step(rollout_s, update_s, rollout_tokens, st.train_tokens),
        roles: role_lines,
    })
}
