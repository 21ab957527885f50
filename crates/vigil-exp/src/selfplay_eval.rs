//! The self-play game as an evaluation (`eval/self-play.md`): each checkpoint plays every role
//! on the same fixed briefs, so the attacker's plausibility, fooling and schema-violation rates
//! (and the defender's on crafted incidents) compare the warm-start with the trained policy on
//! identical episodes, with far more samples than one training step's briefs.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use vigil_core::{SeedStream, Split, TaskId, write_atomic, write_json_atomic};
use vigil_schema::{SelfPlayEval, SelfPlayMetric, SelfPlayPolicy, SelfPlayRole, files};

use crate::config::EvalConfig;
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

/// Plays `jobs` with `policy` in every role and averages each role's declared metrics.
pub(crate) fn evaluate(
    built: &Built,
    policy: &mut dyn vigil_core::Policy,
    label: &str,
    jobs: &[(TaskId, u64)],
    cfg: &EvalConfig,
) -> anyhow::Result<SelfPlayPolicy> {
    let env = built.env.as_dyn();
    let records = crate::evaluate::play(built, policy, label, jobs, cfg, |_, bar| {
        bar.set_message("self-play")
    })
    .context("the self-play game")?;
    let roles = env
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
        .collect();
    Ok(SelfPlayPolicy {
        policy: label.to_string(),
        roles,
    })
}

/// One row per (checkpoint, role, metric).
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
    for p in &eval.policies {
        for r in &p.roles {
            for m in &r.metrics {
                let mean = m
                    .mean
                    .map_or_else(|| "–".to_string(), |v| format!("{v:.3}"));
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {mean} | {} | {:.3} |",
                    p.policy, r.role, m.name, m.reported, m.per_episode
                );
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
