//! Evaluating policies on an environment split: shared by `exp eval` and `exp run`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use vigil_core::{
    DriverLimits, EnvSummary, EpisodeRecord, Policy, SeedStream, TaskId, run_episodes_by_role,
    write_atomic, write_json_atomic,
};
use vigil_metrics::summary::EvalSummary;
use vigil_schema::{PolicyRole, PolicySummary, files};

use crate::config::EvalConfig;
use crate::wiring::Built;

/// One policy's evaluation.
#[derive(Debug)]
pub(crate) struct EvalResult {
    /// Policy label (config label or baseline name).
    pub policy: String,
    /// Why it was evaluated.
    pub role: PolicyRole,
    /// Aggregates, overall and per stage.
    pub summary: EvalSummary,
    /// The environment's own aggregate (`Environment::summarize`), e.g. SOC Narrative metrics.
    pub env_summary: EnvSummary,
    /// Every episode, in task order.
    pub records: Vec<EpisodeRecord>,
}

impl EvalResult {
    /// What `summary.json` and `comparison.json` hold.
    pub(crate) fn file(&self) -> PolicySummary {
        PolicySummary {
            policy: self.policy.clone(),
            role: self.role,
            summary: self.summary.clone(),
            env_summary: self.env_summary.clone(),
        }
    }
}

/// The `(task, seed)` jobs of an evaluation, deterministic for a seed.
pub(crate) fn jobs(
    built: &Built,
    cfg: &EvalConfig,
    seed: u64,
) -> anyhow::Result<Vec<(TaskId, u64)>> {
    let env = built.env.as_dyn();
    let mut tasks = env
        .tasks(cfg.split, None)
        .context("listing evaluation tasks")?;
    if let Some(n) = cfg.limit {
        tasks.truncate(n);
    }
    anyhow::ensure!(
        !tasks.is_empty(),
        "the {} split of `{}` has no tasks",
        cfg.split,
        env.name()
    );
    let seeds = SeedStream::new(seed);
    let mut out = Vec::with_capacity(tasks.len() * cfg.episodes_per_task);
    for (i, t) in tasks.iter().enumerate() {
        for k in 0..cfg.episodes_per_task {
            out.push((
                t.clone(),
                seeds.seed_at("eval-episode", (i * cfg.episodes_per_task + k) as u64),
            ));
        }
    }
    Ok(out)
}

/// Runs `policy` over `jobs` and summarizes.
pub(crate) fn evaluate(
    built: &Built,
    policy: &mut dyn Policy,
    (label, role): (&str, PolicyRole),
    jobs: &[(TaskId, u64)],
    cfg: &EvalConfig,
) -> anyhow::Result<EvalResult> {
    let env = built.env.as_dyn();
    let (mut sum, mut n) = (0.0, 0usize);
    let records = play(built, &mut [policy], label, jobs, cfg, |r, bar| {
        sum += built
            .rewards
            .weighted_total(&r.outcome.rewards)
            .unwrap_or(f64::NAN);
        n += 1;
        bar.set_message(format!("mean reward {:.3}", sum / n as f64));
    })?;
    let classes = env.label_classes();
    let pairs: Vec<_> = records
        .iter()
        .map(|r| (env.stage_of(&r.task), &r.outcome))
        .collect();
    let summary = EvalSummary::of(&pairs, &built.rewards, classes.as_deref())
        .with_context(|| format!("summarizing {label}"))?
        .context("no episodes to summarize")?;
    let outcomes: Vec<_> = records.iter().map(|r| r.outcome.clone()).collect();
    let env_summary = env.summarize(&outcomes);
    Ok(EvalResult {
        policy: label.to_string(),
        role,
        summary,
        env_summary,
        records,
    })
}

/// Runs `players` (one for every role, or one per role) over `jobs` under `[eval]`'s limits
/// behind a progress bar labelled `label`; `on_done` sees each finished episode (and may set
/// the bar's message).
pub(crate) fn play(
    built: &Built,
    players: &mut [&mut dyn Policy],
    label: &str,
    jobs: &[(TaskId, u64)],
    cfg: &EvalConfig,
    mut on_done: impl FnMut(&EpisodeRecord, &ProgressBar),
) -> anyhow::Result<Vec<EpisodeRecord>> {
    let bar = ProgressBar::new(jobs.len() as u64).with_style(
        ProgressStyle::with_template("{prefix:>16} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    let limits = DriverLimits {
        max_turns: cfg.max_turns,
        batch_size: cfg.batch_size,
    };
    let records = run_episodes_by_role(built.env.as_dyn().as_ref(), players, jobs, limits, |r| {
        bar.inc(1);
        on_done(r, &bar);
    })
    .with_context(|| format!("evaluating {label}"))?;
    bar.finish_and_clear();
    Ok(records)
}

/// Writes `episodes.jsonl` and `summary.json` for one policy under `dir/<policy>/`.
pub(crate) fn write(dir: &Path, result: &EvalResult) -> anyhow::Result<()> {
    let sub = dir.join(sanitize(&result.policy));
    let mut lines = Vec::new();
    for r in &result.records {
        serde_json::to_writer(&mut lines, r)?;
        lines.write_all(b"\n")?;
    }
    write_atomic(&sub.join(files::EPISODES), &lines)
        .with_context(|| format!("writing {}", sub.display()))?;
    write_json_atomic(&sub.join(files::SUMMARY), &result.file())
        .with_context(|| format!("writing {}", sub.display()))?;
    Ok(())
}

/// Writes every result plus `comparison.json` / `comparison.md`, and prints the table (the end of
/// both `exp eval` and `exp run`).
pub(crate) fn report(dir: &Path, results: &[EvalResult]) -> anyhow::Result<()> {
    for r in results {
        write(dir, r)?;
    }
    let table = markdown(results);
    write_atomic(&dir.join(files::COMPARISON_MD), table.as_bytes())?;
    let all: Vec<PolicySummary> = results.iter().map(EvalResult::file).collect();
    write_json_atomic(&dir.join(files::COMPARISON), &all)?;
    #[allow(clippy::print_stdout)]
    {
        print!("{table}");
        println!("\nresults in {}", dir.display());
    }
    Ok(())
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A Markdown table comparing policies: total, each component, format validity, label metrics
/// and episode metrics (means).
pub(crate) fn markdown(results: &[EvalResult]) -> String {
    let Some(first) = results.first() else {
        return String::new();
    };
    let comps: Vec<&str> = first
        .summary
        .overall
        .rewards
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let metrics: Vec<&String> = first.summary.overall.metrics.keys().collect();
    let labels = first.summary.overall.classification.is_some();
    let mut head = vec!["policy".to_string(), "episodes".into(), "total".into()];
    head.extend(comps.iter().map(|c| c.to_string()));
    head.push("format_valid".into());
    if labels {
        head.extend(["accuracy".into(), "macro_f1".into()]);
    }
    head.extend(metrics.iter().map(|m| m.to_string()));
    let mut s = String::new();
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    for r in results {
        let o = &r.summary.overall;
        let mut row = vec![
            r.policy.clone(),
            o.episodes.to_string(),
            format!("{:.3}", o.total.mean),
        ];
        for c in &comps {
            row.push(
                o.rewards
                    .iter()
                    .find(|x| x.name == *c)
                    .map_or("–".into(), |x| format!("{:.3}", x.stats.mean)),
            );
        }
        row.push(format!("{:.3}", o.format_valid_rate));
        if labels {
            match &o.classification {
                Some(c) => row.extend([format!("{:.3}", c.accuracy), format!("{:.3}", c.macro_f1)]),
                None => row.extend(["–".into(), "–".into()]),
            }
        }
        for m in &metrics {
            row.push(
                o.metrics
                    .get(*m)
                    .map_or("–".into(), |d| format!("{:.3}", d.mean)),
            );
        }
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    s
}
