//! The self-play game as an evaluation (`eval/self-play.md`): each checkpoint plays every role
//! on the same fixed briefs, so the attacker's plausibility, fooling and schema-violation rates
//! (and the defender's on crafted incidents) compare the warm-start with the trained policy on
//! identical episodes, with far more samples than one training step's briefs.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use vigil_core::{AdvantageEstimator, SeedStream, Split, TaskId, write_atomic, write_json_atomic};
use vigil_policy::Qwen3PolicyConfig;
use vigil_schema::{
    PolicyRole, RolePlayer, SelfPlayCross, SelfPlayEval, SelfPlayMetric, SelfPlayPolicy,
    SelfPlayRole, files,
};
use vigil_trainer::TrainOutcome;

use crate::config::{EvalConfig, LoadedConfig};
use crate::wiring::Built;

/// Episodes per checkpoint when `[eval] self_play_episodes` is not set.
pub(crate) const DEFAULT_EPISODES: usize = 64;

/// `n` fixed `(brief, seed)` jobs: the last `n` training tasks of `stage`, in reverse order (far
/// from where a short run's shuffled draws concentrate, and the same for every checkpoint).
pub(crate) fn jobs(
    built: &Built,
    stage: Option<&str>,
    n: usize,
    seed: u64,
) -> anyhow::Result<Vec<(TaskId, u64)>> {
    let env = built.env.as_dyn();
    let tasks = env
        .tasks(Split::Train, stage)
        .context("listing self-play briefs")?;
    anyhow::ensure!(
        !tasks.is_empty(),
        "the train split of `{}` has no tasks for the self-play evaluation",
        env.name()
    );
    let seeds = SeedStream::new(seed);
    Ok(tasks
        .iter()
        .rev()
        .cycle()
        .take(n)
        .enumerate()
        .map(|(i, t)| (t.clone(), seeds.seed_at("self-play-eval", i as u64)))
        .collect())
}

/// Plays `jobs` with `players` (one for every role, or one per role) and averages each role's
/// declared metrics.
pub(crate) fn game(
    built: &Built,
    players: &mut [&mut dyn vigil_core::Policy],
    label: &str,
    jobs: &[(TaskId, u64)],
    cfg: &EvalConfig,
) -> anyhow::Result<Vec<SelfPlayRole>> {
    let env = built.env.as_dyn();
    let records = crate::evaluate::play(built, players, label, jobs, cfg, |_, bar| {
        bar.set_message("self-play")
    })
    .with_context(|| format!("the self-play game ({label})"))?;
    Ok(env
        .roles()
        .into_iter()
        .map(|role| SelfPlayRole {
            metrics: role
                .metrics
                .iter()
                .map(|name| {
                    let values: Vec<f64> = records
                        .iter()
                        .filter_map(|r| r.outcome.metrics.get(name).copied())
                        .collect();
                    let sum = values.iter().fold(0.0, |a, v| a + v);
                    SelfPlayMetric {
                        name: name.clone(),
                        reported: values.len(),
                        mean: (!values.is_empty()).then(|| sum / values.len() as f64),
                        per_episode: sum / records.len().max(1) as f64,
                    }
                })
                .collect(),
            role: role.name,
        })
        .collect())
}

/// The game of every checkpoint (`(label, policy)`, in comparison order) against itself, and,
/// with `cross`, of every ordered pair of distinct checkpoints: the first role (the one whose
/// output the others answer, OpenSOC's attacker) from one, the other roles from the other.
pub(crate) fn evaluate_all(
    built: &Built,
    checkpoints: &mut [(String, Box<dyn vigil_core::Policy>)],
    cross: bool,
    stage: Option<String>,
    jobs: &[(TaskId, u64)],
    cfg: &EvalConfig,
) -> anyhow::Result<SelfPlayEval> {
    let mut policies = Vec::new();
    for (label, p) in checkpoints.iter_mut() {
        let roles = game(built, &mut [p.as_mut()], label, jobs, cfg)?;
        policies.push(SelfPlayPolicy {
            policy: label.clone(),
            roles,
        });
    }
    let names: Vec<String> = built
        .env
        .as_dyn()
        .roles()
        .into_iter()
        .map(|r| r.name)
        .collect();
    let mut games = Vec::new();
    let n = checkpoints.len();
    for first in (0..n).filter(|_| cross && names.len() > 1) {
        for rest in (0..n).filter(|&r| r != first) {
            let (a, b) = if first < rest {
                let (lo, hi) = checkpoints.split_at_mut(rest);
                (&mut lo[first], &mut hi[0])
            } else {
                let (lo, hi) = checkpoints.split_at_mut(first);
                (&mut hi[0], &mut lo[rest])
            };
            let players: Vec<RolePlayer> = names
                .iter()
                .enumerate()
                .map(|(i, role)| RolePlayer {
                    role: role.clone(),
                    policy: if i == 0 { a.0.clone() } else { b.0.clone() },
                })
                .collect();
            let label = format!("{} vs {}", a.0, b.0);
            // The driver's last player plays every role past the first.
            let mut seats: [&mut dyn vigil_core::Policy; 2] = [a.1.as_mut(), b.1.as_mut()];
            games.push(SelfPlayCross {
                roles: game(built, &mut seats, &label, jobs, cfg)?,
                players,
            });
        }
    }
    Ok(SelfPlayEval {
        stage,
        episodes: jobs.len(),
        policies,
        cross: games,
    })
}

/// The self-play game played by the SFT and final checkpoints (`eval/self-play.md`), for a
/// self-play run whose roles all play with the trained weights (`None` otherwise, or with
/// `[eval] self_play_episodes = 0`).
pub(crate) fn after_training(
    loaded: &LoadedConfig,
    built: &Built,
    q: &Qwen3PolicyConfig,
    outcome: &TrainOutcome,
) -> anyhow::Result<Option<vigil_schema::SelfPlayEval>> {
    let cfg = &loaded.config;
    let (t, train_q) = crate::training::qwen3(loaded)?;
    let shared = train_q
        .roles
        .values()
        .all(|r| matches!(r, vigil_policy::RolePolicyConfig::Shared {}));
    let n = cfg.eval.self_play_episodes.unwrap_or(DEFAULT_EPISODES);
    if t.self_play.is_none() || !shared || n == 0 {
        return Ok(None);
    }
    let stage = t.curriculum.first().map(|c| c.stage.clone());
    let jobs = jobs(
        built,
        stage.as_deref(),
        n,
        SeedStream::new(cfg.seed).seed("self-play-eval"),
    )?;
    let label = AdvantageEstimator::name(&cfg.advantage);
    let mut checkpoints = Vec::new();
    for (label, path) in outcome
        .sft_policy
        .iter()
        .map(|p| (PolicyRole::WARMSTART_LABEL, p))
        .chain([(label, &outcome.final_policy)])
    {
        checkpoints.push((
            label.to_string(),
            crate::training::artifact_policy(q, path)?,
        ));
    }
    evaluate_all(
        built,
        &mut checkpoints,
        cfg.eval.self_play_cross,
        stage,
        &jobs,
        &cfg.eval,
    )
    .map(Some)
}

/// One row per (checkpoint, role, metric), then one per (pairing, role, metric).
pub(crate) fn markdown(eval: &SelfPlayEval) -> String {
    let stage = eval.stage.as_deref().unwrap_or("every stage");
    let mut out = format!(
        "**Self-play game per checkpoint: {} episodes on fixed briefs ({stage}), every role played by the checkpoint**\n\n\
         `mean` is over the episodes that report the metric (`n`); `per episode` counts the others as 0 \
         (e.g. attacker `plausible`: mean = share of schema-valid crafts, per episode = share of all crafts; \
         `attacker_fooled` is reported for plausible crafts only).\n\n\
         | policy | role | metric | mean | n | per episode |\n|---|---|---|---:|---:|---:|\n",
        eval.episodes
    );
    let row = |out: &mut String, who: &str, r: &SelfPlayRole| {
        for m in &r.metrics {
            let mean = m
                .mean
                .map_or_else(|| "–".to_string(), |v| format!("{v:.3}"));
            let _ = writeln!(
                out,
                "| {who} | {} | {} | {mean} | {} | {:.3} |",
                r.role, m.name, m.reported, m.per_episode
            );
        }
    };
    for p in &eval.policies {
        for r in &p.roles {
            row(&mut out, &p.policy, r);
        }
    }
    if !eval.cross.is_empty() {
        out.push_str(
            "\n**Cross-play: the same briefs with the roles split between checkpoints**\n\n\
             Each role's rows against the game above where its opponent is the same checkpoint: \
             e.g. the defender rows of `attacker=X, defender=Y` against those of checkpoint `X` \
             compare two defenders on the incidents of one attacker.\n\n\
             | players | role | metric | mean | n | per episode |\n|---|---|---|---:|---:|---:|\n",
        );
        for g in &eval.cross {
            let who: Vec<String> = g
                .players
                .iter()
                .map(|p| format!("{}={}", p.role, p.policy))
                .collect();
            for r in &g.roles {
                row(&mut out, &who.join(", "), r);
            }
        }
    }
    out
}

/// Writes `self-play.json` and `self-play.md` into `dir` (atomically) and prints the table.
pub(crate) fn write(dir: &Path, eval: &SelfPlayEval) -> anyhow::Result<()> {
    let table = markdown(eval);
    write_atomic(&dir.join(files::SELF_PLAY_MD), table.as_bytes())?;
    write_json_atomic(&dir.join(files::SELF_PLAY), eval)?;
    #[allow(clippy::print_stdout)]
    {
        println!("{table}");
    }
    Ok(())
}
